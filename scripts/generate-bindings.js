#!/usr/bin/env node
/*
 * Generates the TypeScript provider bindings in .gen/providers/<name>/ from the recorded schemas in
 * schemas/, the offline stand-in for `cdktf get` (which needs the Terraform registry). Which providers
 * are generated, and at which version, comes from cdktf.json's terraformProviders, the same list
 * `cdktf get` would read; providers with a prebuilt npm package (random, null) are not listed there.
 *
 * Runs on `npm install`/`npm ci` (postinstall). Output is git-ignored and never edited by hand.
 */
"use strict";
const fs = require("fs");
const path = require("path");

const root = path.resolve(__dirname, "..");

// @cdktf/commons asks the local terraform for its version on load; keep that quiet and offline.
process.env.CHECKPOINT_DISABLE = "1";
if (process.env.TF_CLI_CONFIG_FILE && !fs.existsSync(process.env.TF_CLI_CONFIG_FILE)) {
  delete process.env.TF_CLI_CONFIG_FILE;
}

async function main() {
  const { TerraformProviderGenerator, CodeMaker } = require("@cdktf/provider-generator");
  const { TerraformProviderConstraint, ConstructsMakerProviderTarget, LANGUAGES } = require("@cdktf/commons");
  const config = JSON.parse(fs.readFileSync(path.join(root, "cdktf.json"), "utf8"));
  const outRoot = path.join(root, config.codeMakerOutput || ".gen");

  for (const spec of config.terraformProviders || []) {
    const constraint = new TerraformProviderConstraint(spec);
    const schemaFile = path.join(root, "schemas", `${constraint.name}.json`);
    if (!fs.existsSync(schemaFile)) {
      throw new Error(`cdktf.json lists provider "${spec}" but ${path.relative(root, schemaFile)} is missing`);
    }
    const schema = JSON.parse(fs.readFileSync(schemaFile, "utf8"));
    const fqpn = Object.keys(schema.provider_schemas)[0];
    const meta = readMeta(constraint.name);
    // The pinned version travels into the binding, and from there into required_providers.
    schema.provider_versions = { [fqpn]: meta.version };
    if (constraint.version && constraint.version !== meta.version && constraint.version !== `= ${meta.version}`) {
      throw new Error(
        `cdktf.json pins ${constraint.name} at "${constraint.version}" but schemas/${constraint.name}.meta.json records ${meta.version}`,
      );
    }

    const outDir = path.join(outRoot, "providers", constraint.name);
    fs.rmSync(outDir, { recursive: true, force: true });
    const code = new CodeMaker();
    const generator = new TerraformProviderGenerator(code, schema);
    generator.generate(new ConstructsMakerProviderTarget(constraint, LANGUAGES[0]));
    await code.save(outRoot);
    const files = countFiles(outDir);
    console.log(`bindings: ${constraint.source}@${meta.version} -> ${path.relative(root, outDir)} (${files} files)`);
  }
}

function readMeta(name) {
  const file = path.join(root, "schemas", `${name}.meta.json`);
  const meta = JSON.parse(fs.readFileSync(file, "utf8"));
  if (typeof meta.version !== "string" || !meta.version) {
    throw new Error(`schemas/${name}.meta.json has no "version"`);
  }
  return meta;
}

function countFiles(dir) {
  if (!fs.existsSync(dir)) return 0;
  let n = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    n += entry.isDirectory() ? countFiles(path.join(dir, entry.name)) : 1;
  }
  return n;
}

main().catch((err) => {
  console.error(`bindings: ${err.message}`);
  process.exit(1);
});
