/**
 * `npm run policy -- check` over many files in one process: wall time of the whole process (node,
 * the runner, the checker, every file read, checked and printed) for 1 and for N policies, each
 * policy a realistic one (groups, tags, hosts, 40 grants, ACLs, SSH rules, 20 tests), a fifth of
 * them broken in some way. Figures in the README.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { fmt, median } from "./stats";

/** One policy of a team of `i`: its own names, so no two files are alike. */
export function samplePolicy(i: number): string {
  const tags = Array.from({ length: 8 }, (_, t) => `tag:svc${i}-${t}`);
  const grants = Array.from({ length: 40 }, (_, k) => ({
    src: [k % 3 ? `group:team${i}` : tags[k % 8]],
    dst: [k % 5 ? tags[(k + 1) % 8] : `10.${i % 250}.${k}.0/24`],
    ip: [k % 4 ? `tcp:${1000 + k}` : `udp:${2000 + k}-${2010 + k}`, ...(k % 7 ? [] : ["icmp:*"])],
  }));
  // Each test follows a grant: an accept on the port it opens, a deny on SSH, which none opens.
  const tests = grants.slice(0, 20).map((gr, k) => {
    const src = gr.src[0].startsWith("group:") ? `u${k % 10}@team${i}.example.com` : gr.src[0];
    const host = gr.dst[0].endsWith("/24") ? gr.dst[0].replace(/0\/24$/, "5") : gr.dst[0];
    const [proto, port] = k % 4 ? ["tcp", 1000 + k] : ["udp", 2000 + k];
    return k % 3 ? { src, proto, accept: [`${host}:${port}`] } : { src, proto: "tcp", deny: [`${host}:22`] };
  });
  const policy: Record<string, unknown> = {
    groups: { [`group:team${i}`]: Array.from({ length: 10 }, (_, u) => `u${u}@team${i}.example.com`) },
    tagOwners: Object.fromEntries(tags.map((t) => [t, [`group:team${i}`]])),
    hosts: { [`db${i}`]: `10.${i % 250}.0.5` },
    grants,
    acls: [{ action: "accept", src: [`group:team${i}`], dst: [`db${i}:5432`] }],
    ssh: [{ action: "check", src: [`group:team${i}`], dst: [tags[0]], users: ["root", "autogroup:nonroot"] }],
    tests,
  };
  // A fifth of the files carry a mistake Tailscale refuses.
  if (i % 5 === 4) (policy.grants as { dst: string[] }[])[3].dst.push("group:ghost");
  return `// team ${i}\n${JSON.stringify(policy, null, 2).replace(/\n}$/, ",\n}")}\n`;
}

export function benchPolicyCheck(runs = 5, counts = [1, 300]): string {
  const root = path.join(__dirname, "..");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "policy-bench-"));
  const max = Math.max(...counts);
  const files = Array.from({ length: max }, (_, i) => {
    const f = path.join(dir, `p${i}.hujson`);
    fs.writeFileSync(f, samplePolicy(i));
    return f;
  });
  const rows = ["| files | whole process (median) | × `node -e ''` | per file | verdicts (accepted / rejected / unknown) |", "|---:|---:|---:|---:|---|"];
  // The floor, measured interleaved with the runs below: node starting and exiting.
  const floor: number[] = [];
  const nodeStart = () => {
    const t = process.hrtime.bigint();
    spawnSync(process.execPath, ["-e", ""]);
    floor.push(Number(process.hrtime.bigint() - t) / 1e6);
  };
  try {
    for (const n of counts) {
      const wall: number[] = [];
      let verdicts = "";
      for (let r = 0; r < runs; r++) {
        nodeStart();
        const start = process.hrtime.bigint();
        const p = spawnSync(process.execPath, [path.join(root, "scripts", "run-ts.js"), path.join(root, "src", "tailnet", "policy-cli.ts"), "check", "--json", ...files.slice(0, n)], {
          cwd: root,
          encoding: "utf8",
          maxBuffer: 1 << 26,
        });
        wall.push(Number(process.hrtime.bigint() - start) / 1e6);
        const lines = p.stdout.trim().split("\n").map((l) => JSON.parse(l) as { verdict: string });
        if (lines.length !== n || ![0, 1, 3].includes(p.status ?? -1)) throw new Error(`policy check: ${lines.length} lines for ${n} files, status ${p.status}: ${p.stderr}`);
        const count = (v: string) => lines.filter((l) => l.verdict === v).length;
        verdicts = `${count("accepted")} / ${count("rejected")} / ${count("unknown")}`;
      }
      rows.push(`| ${n} | ${fmt(median(wall))} ms | ${fmt(median(wall) / median(floor), 1)} | ${fmt(median(wall) / n, 1)} ms | ${verdicts} |`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return `${rows.join("\n")}\n\n\`node -e ''\`: ${fmt(median(floor))} ms (median of ${floor.length}, interleaved).`;
}

if (require.main === module) console.log(benchPolicyCheck(Number(process.env.BENCH_RUNS ?? 5)));
