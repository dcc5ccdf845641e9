// Types of cdktf's jest matchers (registered at runtime in setup.ts).
import "cdktf/lib/testing/adapters/jest";
