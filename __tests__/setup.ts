// Registers cdktf's jest matchers (toHaveResource, toHaveResourceWithProperties, ...) at runtime.
require("cdktf").Testing.setupJest();
// Temporary folders of the test file (temp-dirs.ts) go when it ends.
afterAll(() => require("./temp-dirs").removeTempDirs());
