import { useEffect } from "preact/hooks";

/** Sets the document title to the page's: "<page> · Licensing console". */
export function useTitle(title: string): void {
  useEffect(() => {
    document.title = `${title} · Licensing console`;
  }, [title]);
}
