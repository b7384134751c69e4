export const handler = async (): Promise<{ started: number }> => ({ started: 0 });
