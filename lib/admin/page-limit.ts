/** `?limit=` (validated as 1–100 digits by the route's schema), else `fallback`. */
export const pageLimit = (limit: string | undefined, fallback = 50) =>
  limit === undefined ? fallback : Number(limit);
