import { App, Testing } from "cdktf";
import { MeshStack, MeshStackProps } from "../../src/systems/mesh/mesh-stack";

/** Synthesizes one MeshStack with the given props; returns the parsed Terraform JSON. */
export function synthMesh(props: MeshStackProps = {}): any {
  const app = Testing.app() as App;
  const stack = new MeshStack(app, "mesh", props);
  return JSON.parse(Testing.synth(stack));
}

/** Drops cdktf's "//" metadata so two documents can be compared as Terraform sees them. */
export function withoutMetadata(doc: any): any {
  if (Array.isArray(doc)) return doc.map(withoutMetadata);
  if (doc && typeof doc === "object") {
    return Object.fromEntries(Object.entries(doc).filter(([k]) => k !== "//").map(([k, v]) => [k, withoutMetadata(v)]));
  }
  return doc;
}
