// Registers cdktf's jest matchers (toHaveResource, toHaveResourceWithProperties, ...) at runtime.
require("cdktf").Testing.setupJest();
