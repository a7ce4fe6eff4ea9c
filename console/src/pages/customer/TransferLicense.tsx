import { useEffect, useRef, useState } from "preact/hooks";
import { request, segment } from "../../api.ts";
import { Dialog } from "../../components/Dialog.tsx";
import { ErrorAlert } from "../../components/ErrorAlert.tsx";
import type { License } from "../../types.ts";

type Step =
  | { at: "closed" }
  | { at: "email"; email: string }
  | { at: "confirm"; email: string }
  | { at: "running"; email: string }
  | { at: "failed"; email: string; error: unknown };

/** "Transfer license": asks the new email, confirms naming both emails, then moves the license. */
export function TransferLicense({
  customerId,
  license,
  onTransferred,
}: {
  customerId: string;
  license: License;
  onTransferred: () => void;
}) {
  const [step, setStep] = useState<Step>({ at: "closed" });
  const [result, setResult] = useState<License>();
  const close = () => setStep({ at: "closed" });
  const fieldId = `transfer-email-${license.connectorKey}`;
  const confirm = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    // The email form is gone once its Continue is pressed: focus moves to the question's answer.
    if (step.at === "confirm") confirm.current?.focus();
  }, [step.at]);

  const transfer = async (email: string) => {
    setStep({ at: "running", email });
    try {
      const moved = await request<License>(
        `/admin/customers/${segment(customerId)}/licenses/${segment(license.connectorKey)}/transfer`,
        { method: "POST", body: { email } },
      );
      setResult(moved);
      setStep({ at: "closed" });
      onTransferred();
    } catch (error) {
      setStep({ at: "failed", email, error });
    }
  };

  return (
    <>
      <button
        type="button"
        class="small"
        onClick={() => {
          setResult(undefined);
          setStep({ at: "email", email: "" });
        }}
      >
        Transfer license<span class="visually-hidden"> {license.connectorKey}</span>
      </button>
      {result ? (
        <p class="ok small" role="status">
          Moved to {result.email} ({result.state}).
        </p>
      ) : null}
      {step.at === "closed" ? null : (
        <Dialog title={`Transfer the ${license.connectorKey} license`} onCancel={close}>
          {step.at === "email" ? (
            <form
              class="form"
              onSubmit={(event) => {
                event.preventDefault();
                setStep({ at: "confirm", email: step.email.trim() });
              }}
            >
              <p>
                It is on <strong>{license.email}</strong> now.
              </p>
              <label for={fieldId}>New email</label>
              <input
                id={fieldId}
                type="email"
                required
                maxLength={254}
                autocomplete="off"
                value={step.email}
                onInput={(event) => setStep({ at: "email", email: event.currentTarget.value })}
              />
              <div class="buttons">
                <button type="submit">Continue</button>
                <button type="button" class="secondary" onClick={close}>
                  Cancel
                </button>
              </div>
            </form>
          ) : (
            <div class="form">
              <p>
                Move the {license.connectorKey} license from <strong>{license.email}</strong> to{" "}
                <strong>{step.email}</strong>?
              </p>
              {step.at === "failed" ? <ErrorAlert error={step.error} title="The transfer failed." /> : null}
              {step.at === "running" ? (
                <p role="status" class="muted">
                  Transferring…
                </p>
              ) : null}
              <div class="buttons">
                <button
                  type="button"
                  ref={confirm}
                  disabled={step.at === "running"}
                  onClick={() => transfer(step.email)}
                >
                  Confirm transfer
                </button>
                <button
                  type="button"
                  class="secondary"
                  disabled={step.at === "running"}
                  onClick={() => setStep({ at: "email", email: step.email })}
                >
                  Change email
                </button>
                <button type="button" class="secondary" onClick={close}>
                  Cancel
                </button>
              </div>
            </div>
          )}
        </Dialog>
      )}
    </>
  );
}
