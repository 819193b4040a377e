/** The bare baseline's only activity: does nothing, so its cost is Temporal's alone. */
export async function noop(): Promise<void> {}
