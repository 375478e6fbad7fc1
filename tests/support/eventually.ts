/**
 * Retries an assertion until it passes or the time runs out, for what follows the events asynchronously (read
 * models). The last failure is what the test reports.
 */
export const eventually = async <T>(
  assertion: () => Promise<T>,
  { timeoutMs = 15_000, intervalMs = 50 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await assertion();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }
};
