import { readFile } from "node:fs/promises";
import { type Catalog, CatalogError, parseCatalog } from "#lib/licensing/catalog.ts";

/**
 * Reads and validates the catalog file (`CATALOG_PATH`). The only file of lib/licensing that
 * does I/O; call it once at cold start.
 * @throws CatalogError when the file cannot be read, is not JSON, or does not validate; the
 *   message starts with the path.
 */
export async function loadCatalogFile(path: string): Promise<Catalog> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const reason = error instanceof Error && "code" in error ? String(error.code) : "unreadable";
    throw new CatalogError(`Cannot read catalog file ${path}: ${reason}`, [`${path}: ${reason}`], {
      cause: error,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new CatalogError(`Catalog file ${path} is not valid JSON: ${reason}`, [`${path}: ${reason}`], {
      cause: error,
    });
  }
  try {
    return parseCatalog(json);
  } catch (error) {
    if (error instanceof CatalogError) {
      throw new CatalogError(`${path}: ${error.message}`, error.issues, { cause: error });
    }
    throw error;
  }
}
