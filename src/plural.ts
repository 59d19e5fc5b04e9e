/** `n` and the word for it, in the plural unless n is 1: "1 checkpoint", "3 checkpoints". */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
