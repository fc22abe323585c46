/** Assertions for inputs that synthesis must refuse with one line naming the field. */
import { validationMessage } from "../../src/validation/report";

/** Runs `run`, which must throw a validation error whose message is one line matching `expected`. */
export function expectRefusedInOneLine(run: () => unknown, expected: RegExp): void {
  let message: string | undefined;
  try {
    run();
  } catch (e) {
    message = validationMessage(e);
    if (message === undefined) throw e;
  }
  expect(message).toBeDefined();
  expect(message).not.toContain("\n");
  expect(message).toMatch(expected);
}
