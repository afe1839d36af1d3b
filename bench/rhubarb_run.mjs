// Runs Rhubarb Lip Sync (npm rhubarb-lip-sync-wasm) on jobs read as JSON from stdin:
// [{"pcm": "<s16le 16 kHz mono file>", "text": "<dialog text or empty>"}] -> [{"cues": [...], "seconds": t}]
import { Rhubarb } from "rhubarb-lip-sync-wasm";
import fs from "fs";

const jobs = JSON.parse(fs.readFileSync(0, "utf8"));
const out = [];
const log = console.log;
console.log = () => {};   // the wasm build prints debug lines on stdout
for (const job of jobs) {
  const pcm = fs.readFileSync(job.pcm);
  const t0 = process.hrtime.bigint();
  const result = await Rhubarb.getLipSync(pcm, { dialogText: job.text || "" });
  const t1 = process.hrtime.bigint();
  out.push({ cues: result.mouthCues, seconds: Number(t1 - t0) / 1e9 });
}
console.log = log;
process.stdout.write(JSON.stringify(out) + "\n");
