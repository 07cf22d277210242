#!/usr/bin/env node
'use strict';
// Entry point of the `relaytv` command: runs the compiled CLI (built by `npm ci` through `prepare`).
require('../dist/src/cli/index.js').main(process.argv);
