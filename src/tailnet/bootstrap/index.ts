export * from "./validate";
export * from "./distro";
export * from "./sysctl";
export * from "./systemd";
export * from "./node-bootstrap";
export * from "./dnf";
export * from "./extras";
