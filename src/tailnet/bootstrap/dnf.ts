/**
 * The parts of the bootstrap script that differ on rpm images (Amazon Linux 2023): package helpers
 * on rpm/dnf, and Tailscale's dnf repository instead of its apt one. Everything else (hostname,
 * tuning, forwarding, `tailscale up`, users) is the same script.
 */

/** pkg_version and ensure_packages with the same contract as the apt versions (NAME[=VERSION] specs). */
export function renderDnfLibrary(): string {
  return `# pkg_version NAME: installed version (rpm's VERSION, e.g. 1.90.6), or nothing.
pkg_version() {
  if rpm -q --quiet "$1" 2>/dev/null; then
    rpm -q --qf '%{VERSION}\\n' "$1"
  fi
}

# ensure_packages NAME[=VERSION]...: installs only what is missing or at another version.
ensure_packages() {
  local spec name want have
  local missing=()
  for spec in "$@"; do
    name=\${spec%%=*}
    want=""
    if [ "$name" != "$spec" ]; then
      want=\${spec#*=}
    fi
    have=$(pkg_version "$name")
    if [ -z "$have" ] || { [ -n "$want" ] && [ "$have" != "$want" ]; }; then
      if [ -n "$want" ]; then
        missing+=("$name-$want")
      else
        missing+=("$name")
      fi
    fi
  done
  if [ "\${#missing[@]}" -eq 0 ]; then
    return 0
  fi
  # dnf waits for its own lock and refreshes repository metadata as needed.
  retry dnf -q -y install "\${missing[@]}" || die "dnf install \${missing[*]} failed"
  changed "installed \${missing[*]}"
}`;
}

/** The pinned-version check for dnf: a clear message when the repository lacks the version. */
export function renderDnfPinCheck(): string {
  return `
  # Fail with a clear message when the pinned version is not (or no longer) in the repository.
  if [ "$(pkg_version tailscale)" != "$TS_VERSION" ]; then
    dnf -q list --showduplicates "tailscale-$TS_VERSION" >/dev/null 2>&1 ||
      die "tailscale $TS_VERSION is not available from Tailscale's dnf repository"
  fi`;
}
