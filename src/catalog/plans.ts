/**
 * Akamai Cloud (Linode) compute plans ("types"), as `linode_instance.type` takes them. IDs, sizes and
 * outbound bandwidth are from Linode's public plan listings (the pricing page, the plan-types docs and
 * the public `GET /v4/linode/types` listing, which needs no token); they were not fetched from the API
 * here. Prices are left out on purpose: they change by region and over time, and nothing here needs them.
 * A plan Linode adds later is one line below.
 */
export type PlanClass = "nanode" | "standard" | "dedicated" | "premium" | "highmem" | "gpu";

export interface LinodePlan {
  /** Plan ID used by the API and the provider, e.g. `g6-standard-2`. */
  readonly id: string;
  /** Linode's own label, e.g. `Linode 4GB`. */
  readonly label: string;
  readonly class: PlanClass;
  readonly vcpus: number;
  readonly memoryGb: number;
  readonly diskGb: number;
  /** Outbound network bandwidth cap, Mbit/s. */
  readonly networkOutMbps: number;
}

type Row = [id: string, label: string, cls: PlanClass, vcpus: number, memoryGb: number, diskGb: number, outMbps: number];

// Premium plans (AMD EPYC, dedicated cores) mirror the dedicated sizes up to 56 vCPUs.
const DEDICATED_SIZES: [vcpus: number, memoryGb: number, diskGb: number, outMbps: number][] = [
  [2, 4, 80, 4000],
  [4, 8, 160, 5000],
  [8, 16, 320, 6000],
  [16, 32, 640, 7000],
  [32, 64, 1280, 8000],
  [48, 96, 1920, 9000],
  [50, 128, 2500, 10000],
  [56, 256, 5000, 11000],
  [64, 512, 7200, 12000],
];

const ROWS: Row[] = [
  ["g6-nanode-1", "Nanode 1GB", "nanode", 1, 1, 25, 1000],
  ["g6-standard-1", "Linode 2GB", "standard", 1, 2, 50, 2000],
  ["g6-standard-2", "Linode 4GB", "standard", 2, 4, 80, 4000],
  ["g6-standard-4", "Linode 8GB", "standard", 4, 8, 160, 5000],
  ["g6-standard-6", "Linode 16GB", "standard", 6, 16, 320, 6000],
  ["g6-standard-8", "Linode 32GB", "standard", 8, 32, 640, 7000],
  ["g6-standard-16", "Linode 64GB", "standard", 16, 64, 1280, 9000],
  ["g6-standard-20", "Linode 96GB", "standard", 20, 96, 1920, 10000],
  ["g6-standard-24", "Linode 128GB", "standard", 24, 128, 2560, 11000],
  ["g6-standard-32", "Linode 192GB", "standard", 32, 192, 3840, 12000],
  ...DEDICATED_SIZES.map(([c, m, d, o]): Row => [`g6-dedicated-${c}`, `Dedicated ${m}GB`, "dedicated", c, m, d, o]),
  ...DEDICATED_SIZES.filter(([c]) => c <= 56).map(([c, m, d, o]): Row => [`g7-premium-${c}`, `Premium ${m}GB`, "premium", c, m, d, o]),
  ["g7-highmem-1", "Linode 24GB", "highmem", 2, 24, 20, 5000],
  ["g7-highmem-2", "Linode 48GB", "highmem", 2, 48, 40, 6000],
  ["g7-highmem-4", "Linode 90GB", "highmem", 4, 90, 90, 7000],
  ["g7-highmem-8", "Linode 150GB", "highmem", 8, 150, 200, 8000],
  ["g7-highmem-16", "Linode 300GB", "highmem", 16, 300, 340, 9000],
  ["g1-gpu-rtx6000-1", "Dedicated 32GB + RTX6000 GPU x1", "gpu", 8, 32, 640, 10000],
  ["g1-gpu-rtx6000-2", "Dedicated 64GB + RTX6000 GPU x2", "gpu", 16, 64, 1280, 10000],
  ["g1-gpu-rtx6000-3", "Dedicated 96GB + RTX6000 GPU x3", "gpu", 20, 96, 1920, 10000],
  ["g1-gpu-rtx6000-4", "Dedicated 128GB + RTX6000 GPU x4", "gpu", 24, 128, 2560, 10000],
];

export const LINODE_PLANS: readonly LinodePlan[] = Object.freeze(
  ROWS.map(([id, label, cls, vcpus, memoryGb, diskGb, networkOutMbps]) =>
    Object.freeze({ id, label, class: cls, vcpus, memoryGb, diskGb, networkOutMbps }),
  ),
);

const BY_ID: ReadonlyMap<string, LinodePlan> = new Map(LINODE_PLANS.map((p) => [p.id, p]));

export function findPlan(id: string): LinodePlan | undefined {
  return BY_ID.get(id);
}

export function planIds(): string[] {
  return LINODE_PLANS.map((p) => p.id);
}
