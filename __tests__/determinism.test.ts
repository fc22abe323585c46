import * as fs from "fs";
import * as path from "path";
import { synthToTempDir } from "./helpers/synth";

function listFiles(dir: string, base = dir): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? listFiles(full, base) : [path.relative(base, full)];
  });
}

test("two synths in different directories give identical bytes, with no absolute paths", () => {
  const a = synthToTempDir("synth-a-");
  const b = synthToTempDir("synth-b-other-");
  const filesA = listFiles(a).sort();
  expect(filesA).toEqual(listFiles(b).sort());
  expect(filesA.filter((f) => f.endsWith("cdk.tf.json")).length).toBeGreaterThan(0);
  for (const f of filesA) {
    const bytesA = fs.readFileSync(path.join(a, f));
    expect(bytesA.equals(fs.readFileSync(path.join(b, f)))).toBe(true);
    const text = bytesA.toString("utf8");
    for (const dir of [a, b, process.cwd()]) {
      expect(text.includes(dir)).toBe(false);
    }
    // No JSON string value that starts with a machine path (the script on the nodes may mention
    // its own paths, but never as a whole value).
    expect(text).not.toMatch(/"\/(root|home|tmp|work)\//);
  }
});
