/** An identifier double-quoted for SQL; PostgreSQL and SQLite read it the same way. */
export const quote = (name: string) => `"${name.replaceAll('"', '""')}"`
