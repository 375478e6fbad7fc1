type State = {
  Type: string;
  Next?: string;
  End?: boolean;
  Default?: string;
  Choices?: { Next: string; StringEquals?: string }[];
  Catch?: { ErrorEquals: string[]; Next: string }[];
};

/**
 * A Mermaid flowchart of an ASL definition: every state, every transition, Catch edges labelled with their errors
 * and Choice edges with their values. Generated, so the picture in the README cannot drift from the ASL.
 */
export const aslToMermaid = (definition: { StartAt: string; States: Record<string, State> }): string => {
  const lines = ['flowchart TD', `  Start((start)) --> ${definition.StartAt}`];
  for (const [name, state] of Object.entries(definition.States)) {
    const shape =
      state.Type === 'Choice'
        ? `${name}{${name}}`
        : state.Type === 'Succeed'
          ? `${name}([${name}])`
          : `${name}[${name}]`;
    lines.push(`  ${shape}`);
    if (state.Next) lines.push(`  ${name} --> ${state.Next}`);
    for (const choice of state.Choices ?? [])
      lines.push(`  ${name} -- ${choice.StringEquals ?? 'match'} --> ${choice.Next}`);
    if (state.Default) lines.push(`  ${name} -- otherwise --> ${state.Default}`);
    for (const c of state.Catch ?? []) lines.push(`  ${name} -. ${c.ErrorEquals.join(', ')} .-> ${c.Next}`);
  }
  return lines.join('\n');
};

export const DIAGRAM_START = '<!-- saga-diagram:start (npm run diagram) -->';
export const DIAGRAM_END = '<!-- saga-diagram:end -->';

/** The README with its saga diagram block replaced by `mermaid`. */
export const withDiagram = (readme: string, mermaid: string): string => {
  const start = readme.indexOf(DIAGRAM_START);
  const end = readme.indexOf(DIAGRAM_END);
  if (start < 0 || end < start) throw new Error('README has no saga diagram markers');
  return `${readme.slice(0, start + DIAGRAM_START.length)}\n\n\`\`\`mermaid\n${mermaid}\n\`\`\`\n\n${readme.slice(end)}`;
};
