/**
 * Which Tailscale apt repository a Linode image needs. Tailscale publishes one signed repository per
 * release codename, so the image decides the URLs.
 */

import { didYouMean, naturalSort, sentences } from "../../validation";
import { ProvisioningValidationError } from "./validate";

export type DistroId = "ubuntu" | "debian" | "amzn";

export interface Distro {
  id: DistroId;
  codename: string;
}

export type TailscaleTrack = "stable" | "unstable";

/** Linode image slug → release. Only images whose release Tailscale publishes a repository for. */
export const SUPPORTED_IMAGES: Readonly<Record<string, Distro>> = Object.freeze({
  "linode/ubuntu22.04": { id: "ubuntu", codename: "jammy" },
  "linode/ubuntu24.04": { id: "ubuntu", codename: "noble" },
  "linode/debian11": { id: "debian", codename: "bullseye" },
  "linode/debian12": { id: "debian", codename: "bookworm" },
  "linode/debian13": { id: "debian", codename: "trixie" },
});

/** Amazon Linux 2023 (EC2): an rpm distribution; Tailscale publishes a dnf repository for it. */
export const AMAZON_LINUX_2023: Readonly<Distro> = Object.freeze({ id: "amzn", codename: "2023" });

/** Every release the bootstrap renders for: the Linode images' and Amazon Linux 2023. */
const SUPPORTED_DISTROS: readonly Distro[] = [...Object.values(SUPPORTED_IMAGES), AMAZON_LINUX_2023];

/** How a release installs packages: apt/dpkg or dnf/rpm. */
export function packageFormat(distro: Distro): "deb" | "rpm" {
  return distro.id === "amzn" ? "rpm" : "deb";
}

/** Maps a Linode image slug (e.g. `linode/ubuntu22.04`) to its distribution and codename. */
export function distroForImage(image: string): Distro {
  const d = Object.prototype.hasOwnProperty.call(SUPPORTED_IMAGES, image) ? SUPPORTED_IMAGES[image] : undefined;
  if (!d) {
    const images = naturalSort(Object.keys(SUPPORTED_IMAGES));
    throw new ProvisioningValidationError(
      "image",
      sentences(`${JSON.stringify(image)} is not a supported image.`, didYouMean(image, images), `Supported: ${images.join(", ")}.`),
    );
  }
  return { id: d.id, codename: d.codename };
}

/** Checks a distro pair against the supported images; the error names `field` (e.g. `distro.codename`). */
export function validateDistro(field: string, value: unknown): Distro {
  const v = value as Partial<Distro> | undefined;
  const pairs = SUPPORTED_DISTROS;
  if (!v || typeof v !== "object" || !pairs.some((p) => p.id === v.id)) {
    throw new ProvisioningValidationError(
      `${field}.id`,
      `${JSON.stringify(v?.id)} is not supported (allowed: "ubuntu", "debian", "amzn")`,
    );
  }
  const codenames = pairs.filter((p) => p.id === v.id).map((p) => p.codename);
  if (typeof v.codename !== "string" || !codenames.includes(v.codename)) {
    throw new ProvisioningValidationError(
      `${field}.codename`,
      `${JSON.stringify(v.codename)} is not a supported ${v.id} release (allowed: ${codenames.join(", ")})`,
    );
  }
  return { id: v.id as DistroId, codename: v.codename };
}

export interface TailscaleAptRepo {
  /** Binary (non-armored) keyring to download. */
  keyringUrl: string;
  /** Where apt finds it; the source line's signed-by points here. */
  keyringPath: string;
  /** Source list file we write. */
  listPath: string;
  /** The one-line source, same content as Tailscale's `<codename>.tailscale-keyring.list`. */
  sourceLine: string;
}

export const TAILSCALE_KEYRING_PATH = "/usr/share/keyrings/tailscale-archive-keyring.gpg";
export const TAILSCALE_LIST_PATH = "/etc/apt/sources.list.d/tailscale.list";

export function tailscaleAptRepo(distro: Distro, track: TailscaleTrack = "stable"): TailscaleAptRepo {
  const base = `https://pkgs.tailscale.com/${track}/${distro.id}`;
  return {
    keyringUrl: `${base}/${distro.codename}.noarmor.gpg`,
    keyringPath: TAILSCALE_KEYRING_PATH,
    listPath: TAILSCALE_LIST_PATH,
    sourceLine: `deb [signed-by=${TAILSCALE_KEYRING_PATH}] ${base} ${distro.codename} main`,
  };
}

export interface TailscaleRpmRepo {
  /** The .repo file we write (what `dnf config-manager --add-repo` would download). */
  repoPath: string;
  /** Its content: Tailscale's repository, with package and metadata signatures checked. */
  content: string;
  /** The key dnf imports on first use (gpgkey=). */
  keyUrl: string;
}

export const TAILSCALE_RPM_REPO_PATH = "/etc/yum.repos.d/tailscale.repo";

/** Tailscale's dnf repository for an rpm release (today: Amazon Linux 2023). */
export function tailscaleRpmRepo(distro: Distro, track: TailscaleTrack = "stable"): TailscaleRpmRepo {
  if (packageFormat(distro) !== "rpm") throw new Error(`internal: ${distro.id} is not an rpm distribution`);
  const base = `https://pkgs.tailscale.com/${track}/amazon-linux/${distro.codename}`;
  const keyUrl = `${base}/repo.gpg`;
  return {
    repoPath: TAILSCALE_RPM_REPO_PATH,
    keyUrl,
    // The same content as Tailscale's own <base>/tailscale.repo; written, not downloaded, so the
    // repository definition is part of the reviewed script. `$basearch` is dnf's, not the shell's.
    content: [
      `[tailscale-${track}]`,
      `name=Tailscale ${track}`,
      `baseurl=${base}/$basearch`,
      "enabled=1",
      "type=rpm",
      "repo_gpgcheck=1",
      "gpgcheck=1",
      `gpgkey=${keyUrl}`,
      "",
    ].join("\n"),
  };
}
