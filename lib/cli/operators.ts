import type { Operator } from "#lib/access/operators.ts";
import type { Role } from "#lib/access/roles.ts";
import type { Command } from "./args.ts";
import { type CommandContext, listPages } from "./commands.ts";
import { operatorsTable } from "./format.ts";

type OperatorsCommand = Extract<Command, { name: `operators ${string}` }>;

/**
 * `operators add|list|revoke` against `/admin/operators` (the admin role). `add` prints the new
 * token alone on stdout — the API shows it only in this answer — and a note on stderr, so
 * `TOKEN=$(integrator-licensing operators add ...)` captures exactly the token.
 */
export async function runOperatorsCommand(command: OperatorsCommand, ctx: CommandContext): Promise<number> {
  const { client, output, json } = ctx;
  switch (command.name) {
    case "operators add": {
      const created = await client.post<{ name: string; role: Role; token: string }>("/admin/operators", {
        name: command.operator,
        role: command.role,
      });
      if (json) {
        output.out(JSON.stringify({ name: created.name, role: created.role, token: created.token }, null, 2));
      } else {
        output.err(
          `token for ${created.name} (${created.role}): shown once, store it now (the API keeps only its hash)\n`,
        );
        output.out(created.token);
      }
      return 0;
    }
    case "operators list": {
      // Every page: a team's operators fit in a few.
      const list = await listPages<Operator>(ctx, "/admin/operators", { limit: "100" }, true);
      output.out(json ? JSON.stringify(list, null, 2) : operatorsTable(list.data));
      return 0;
    }
    case "operators revoke": {
      await client.delete(`/admin/operators/${encodeURIComponent(command.operator)}`);
      output.out(
        json
          ? JSON.stringify({ name: command.operator, revoked: true }, null, 2)
          : `Revoked operator ${command.operator}: its token and console sessions stop working within a minute.`,
      );
      return 0;
    }
  }
}
