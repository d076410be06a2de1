/** Sizes in policy reasons and errors: "1.5G", "512M" (binary units, as the scenario files write them). */
export function formatSizeShort(bytes: number): string {
  const units: [number, string][] = [
    [2 ** 40, 'T'],
    [2 ** 30, 'G'],
    [2 ** 20, 'M'],
    [2 ** 10, 'K'],
  ];
  for (const [size, suffix] of units) {
    if (Math.abs(bytes) >= size) return `${Math.round((bytes / size) * 100) / 100}${suffix}`;
  }
  return `${bytes}`;
}
