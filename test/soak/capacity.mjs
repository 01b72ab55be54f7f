// The capacity plan (docs/deploy.md, "Capacity for race day"): what the
// photofinishd autoscaling policy in deploy/terraform does with a burst,
// simulated from a measured per-task photo rate and the policy's own
// numbers, read from the Terraform files (target, cooldowns, min/max).
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { REPO_ROOT } from '../integration/lib/stack.mjs';

/** The policy's numbers from deploy/terraform (defaults of the variables it uses). */
export function policyFromTerraform(dir = path.join(REPO_ROOT, 'deploy/terraform')) {
  const vars = readFileSync(path.join(dir, 'variables.tf'), 'utf8');
  const asg = readFileSync(path.join(dir, 'autoscaling.tf'), 'utf8');
  const dflt = (name) => {
    const m = new RegExp(`variable "${name}" \\{[\\s\\S]*?default\\s*=\\s*([0-9.]+)`).exec(vars);
    if (!m) throw new Error(`deploy/terraform/variables.tf: no default for ${name}`);
    return Number(m[1]);
  };
  const block = asg.slice(asg.indexOf('resource "aws_appautoscaling_policy" "daemon_backlog"'));
  const num = (key) => {
    const m = new RegExp(`${key}\\s*=\\s*([0-9]+)`).exec(block);
    if (!m) throw new Error(`deploy/terraform/autoscaling.tf: no ${key} in the daemon policy`);
    return Number(m[1]);
  };
  return {
    target: dflt('daemon_target_backlog_per_task'),
    minTasks: dflt('daemon_min_tasks'),
    maxTasks: dflt('daemon_max_tasks'),
    scaleOutCooldown: num('scale_out_cooldown'),
    scaleInCooldown: num('scale_in_cooldown'),
  };
}

/**
 * Minute-by-minute (10 s steps) simulation of target tracking on
 * "visible messages / running tasks":
 * - photos arrive evenly over uploadSeconds; every running task handles
 *   `rate` photos/s;
 * - one datapoint a minute; as Application Auto Scaling's target tracking
 *   alarms do, 3 datapoints in a row above the target scale out and 15 in a
 *   row below 90 % of it scale in, to ceil(desired x metric / target),
 *   within min/max, respecting the cooldowns;
 * - a new task processes startSeconds after it was asked for (Fargate
 *   placement, image pull, start-up) and is paid from then on too.
 */
export function simulate({ photos, uploadSeconds, rate, policy, startSeconds = 90, horizonSeconds = 6 * 3600 }) {
  const dt = 10;
  let backlog = 0;
  let arrived = 0;
  let processed = 0;
  let desired = policy.minTasks;
  let running = policy.minTasks;
  const starting = []; // ready times
  let above = 0;
  let below = 0;
  let lastOut = -Infinity;
  let lastIn = -Infinity;
  let taskSeconds = 0;
  let peakBacklog = 0;
  let peakTasks = running;
  let doneAt = null;
  const arrivals = []; // [t, cumulative arrived]
  const completions = []; // [t, cumulative processed]
  const timeline = [];
  for (let t = 0; t <= horizonSeconds; t += dt) {
    while (starting.length && starting[0] <= t) { starting.shift(); running++; }
    const inflow = t < uploadSeconds ? Math.min(photos - arrived, (photos / uploadSeconds) * dt) : photos - arrived;
    arrived += inflow;
    backlog += inflow;
    const out = Math.min(backlog, running * rate * dt);
    backlog -= out;
    processed += out;
    arrivals.push([t, arrived]);
    completions.push([t, processed]);
    peakBacklog = Math.max(peakBacklog, backlog);
    taskSeconds += (running + starting.length) * dt;
    peakTasks = Math.max(peakTasks, running + starting.length);
    if (doneAt === null && processed >= photos - 0.5) doneAt = t;
    if (t % 60 === 0 && t > 0) {
      const metric = backlog / running;
      above = metric > policy.target ? above + 1 : 0;
      below = metric < 0.9 * policy.target ? below + 1 : 0;
      const want = Math.min(policy.maxTasks, Math.max(policy.minTasks, Math.ceil((desired * metric) / policy.target)));
      if (above >= 3 && want > desired && t - lastOut >= policy.scaleOutCooldown) {
        for (let i = desired; i < want; i++) starting.push(t + startSeconds);
        desired = want;
        lastOut = t;
      } else if (below >= 15 && want < desired && t - lastIn >= policy.scaleInCooldown && t - lastOut >= policy.scaleOutCooldown) {
        const drop = Math.min(desired - want, running);
        running -= drop;
        desired -= drop;
        lastIn = t;
      }
      timeline.push({ t, backlog: Math.round(backlog), running, desired, metric: Math.round(metric) });
    }
    if (doneAt !== null && desired === policy.minTasks && !starting.length) break;
  }
  // A photo's wait (FIFO): arrival of the n-th photo -> the n-th done.
  const waitOf = (n) => {
    const a = arrivals.find(([, c]) => c >= n)?.[0] ?? 0;
    const c = completions.find(([, x]) => x >= n - 0.5)?.[0] ?? Infinity;
    return c - a;
  };
  const waits = [0.5, 0.9, 0.99, 1].map((q) => waitOf(Math.max(1, Math.floor(photos * q))));
  return {
    doneAt, peakBacklog: Math.round(peakBacklog), peakTasks, taskHours: taskSeconds / 3600,
    maxWait: Math.max(...Array.from({ length: 50 }, (_, i) => waitOf(((i + 1) * photos) / 50))), waits, timeline,
  };
}

const HOURLY = { 1: 0.04048 * 1 + 0.004445 * 2, 2: 0.04048 * 2 + 0.004445 * 4 }; // Fargate x86, us-east-1: vCPU-h + GB-h (2 GB per vCPU)

/**
 * The capacity section for docs/deploy.md from measured rates:
 * rates = { 1: photos/s of a 1-vCPU task, 2: of a 2-vCPU task }, plus how
 * they were measured (`how`).
 */
export function capacitySection({ rates, how, photos = 300_000, uploadSeconds = 7200, policy = policyFromTerraform() }) {
  const f = (x, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '–');
  const hm = (s) => {
    if (s === null || !Number.isFinite(s)) return 'not within 6 h';
    const m = Math.round(s / 60);
    return m < 60 ? `${m} min` : `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
  };
  const lines = ['<!-- capacity:begin -->', '## Capacity for race day', '',
    `Written by \`make soak\` (test/soak/capacity.mjs) from per-task rates ${how}. `
    + `Policy numbers read from deploy/terraform: backlog target ${policy.target} per task, tasks ${policy.minTasks}–${policy.maxTasks}, `
    + `scale-out cooldown ${policy.scaleOutCooldown} s, scale-in cooldown ${policy.scaleInCooldown} s. `
    + `Costs at Fargate x86 list prices (us-east-1, 2 GB per vCPU): ${f(HOURLY[1], 4)} USD per 1-vCPU task-hour, ${f(HOURLY[2], 4)} per 2-vCPU task-hour. `
    + 'The rates are for the soak\'s 3000×2000 photos: larger originals cost more per photo, so measure with the race\'s photo size before sizing a real race.', '',
    '| task | photos/s per task | photos per task-hour | tasks for 300,000 photos in 2 h | task-hours of processing | cost |', '|---|---|---|---|---|---|'];
  const sims = [];
  for (const v of [1, 2]) {
    const r = rates[v];
    const need = Math.ceil(photos / (uploadSeconds * r));
    const th = photos / (r * 3600);
    lines.push(`| ${v} vCPU, ${v} worker${v > 1 ? 's' : ''} | ${f(r, 2)} | ${f(r * 3600)} | **${need}** | ${f(th, 1)} | ${f(th * HOURLY[v], 2)} USD |`);
    sims.push({ v, r, need, def: simulate({ photos, uploadSeconds, rate: r, policy }), sized: simulate({ photos, uploadSeconds, rate: r, policy: { ...policy, maxTasks: Math.max(policy.maxTasks, need) } }) });
  }
  lines.push('', `The burst, simulated: ${photos.toLocaleString('en')} photos arriving evenly over ${uploadSeconds / 3600} h; one datapoint a minute; `
    + '3 datapoints above the target scale out, 15 below 90 % of it scale in (the alarms target tracking creates), to ceil(tasks × backlog per task / target); '
    + 'a new task processes 90 s after it is asked for. Photo wait = arrival → processed, first in first out.', '',
    '| task | max tasks | all processed after | peak backlog | peak tasks | photo wait p50 / p90 / max | task-hours (incl. scale-in) | cost |', '|---|---|---|---|---|---|---|---|');
  for (const s of sims) {
    for (const [label, sim, max] of [['default', s.def, policy.maxTasks], ['sized', s.sized, Math.max(policy.maxTasks, s.need)]]) {
      if (label === 'sized' && max === policy.maxTasks) continue;
      lines.push(`| ${s.v} vCPU | ${max}${label === 'default' ? ' (default)' : ''} | ${hm(sim.doneAt)} | ${sim.peakBacklog.toLocaleString('en')} | ${sim.peakTasks} | ${hm(sim.waits[0])} / ${hm(sim.waits[1])} / ${hm(sim.maxWait)} | ${f(sim.taskHours, 1)} | ${f(sim.taskHours * HOURLY[s.v], 2)} USD |`);
    }
  }
  for (const s of sims) {
    const hit = s.def.timeline.find((x) => x.desired >= policy.maxTasks);
    lines.push('', s.need <= policy.maxTasks
      ? `${s.v} vCPU: the default maximum of ${policy.maxTasks} tasks covers the ${s.need} needed; the policy scales out after its 3 minutes above the target${hit ? ` and reaches ${policy.maxTasks} tasks after ${Math.round(hit.t / 60)} min` : ''}, and photos wait at most ${hm(s.def.maxWait)}.`
      : `${s.v} vCPU: the default maximum of ${policy.maxTasks} tasks is below the ${s.need} needed: the policy reaches it${hit ? ` after ${Math.round(hit.t / 60)} min` : ''}, the backlog grows to ${s.def.peakBacklog.toLocaleString('en')} while the uploads go on, and the last photo is processed after ${hm(s.def.doneAt)}; with \`daemon_max_tasks = ${s.need}\` the wait stays under ${hm(s.sized.maxWait)}.`);
  }
  lines.push('', 'Target tracking sizes in proportion (ceil(tasks × backlog per task / target)), so one alarm can take the service from 1 task to its maximum; the ramp is the 3 minutes the alarm needs plus the new tasks\' start. '
    + 'Raising `daemon_min_tasks` to the needed count for the hours after the finish removes that ramp for a few task-hours more. The task-hours include the scale-in tail (15 minutes below the target before tasks are removed, then the scale-in cooldown).');
  lines.push('<!-- capacity:end -->');
  return lines.join('\n');
}
