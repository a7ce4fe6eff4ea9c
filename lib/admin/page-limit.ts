/** `?limit=` (validated as a whole number from 1 to 100 by the route's schema), else `fallback`. */
export const pageLimit = (limit: number | undefined, fallback = 50) => limit ?? fallback;
