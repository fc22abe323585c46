// Entry point for `cdktf synth` / `npm run synth`: builds every stack of the app.
import { buildApp } from "./src/app";

buildApp().synth();
