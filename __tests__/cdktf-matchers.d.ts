/// <reference path="../node_modules/cdktf/lib/testing/adapters/jest.d.ts" />
