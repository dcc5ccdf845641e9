import { checkDuration, isoDuration, isoDurationSeconds, timeSpan } from "../../lib/triggers/service-bus-durations";
import { message } from "../error-message";

test("isoDuration writes what isoDurationSeconds reads", () => {
  for (const seconds of [0, 20, 60, 300, 3600, 6600, 86400, 93784, 7 * 86400]) {
    expect(isoDurationSeconds(isoDuration(seconds))).toBe(seconds);
  }
  expect(isoDuration(6600)).toBe("PT1H50M");
  expect(isoDuration(93600)).toBe("P1DT2H");
  expect(isoDuration(0)).toBe("PT0S");
});

test("timeSpan is host.json's hh:mm:ss", () => {
  expect(timeSpan(600)).toBe("00:10:00");
  expect(timeSpan(12 * 3600 + 61)).toBe("12:01:01");
});

test("checkDuration returns the seconds, or names owner, prop, value and range", () => {
  expect(checkDuration("Owner", "lockDuration", "PT2M", 5, 300, "PT5S to PT5M")).toBe(120);
  expect(message(() => checkDuration("Owner", "lockDuration", "2 minutes", 5, 300, "PT5S to PT5M"))).toBe('Owner: invalid lockDuration "2 minutes": not an ISO 8601 duration. Allowed: an ISO 8601 duration from PT5S to PT5M, e.g. "PT1M"');
  expect(message(() => checkDuration("Owner", "lockDuration", "PT6M", 5, 300, "PT5S to PT5M"))).toBe('Owner: invalid lockDuration "PT6M": 360 seconds is outside the range Service Bus accepts. Allowed: an ISO 8601 duration from PT5S to PT5M');
  expect(message(() => checkDuration("Owner", "lockDuration", 60 as unknown as string, 5, 300, "PT5S to PT5M"))).toMatch(/^Owner: invalid lockDuration 60: not an ISO 8601 duration/);
});
