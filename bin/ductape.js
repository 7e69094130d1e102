#!/usr/bin/env node
// Runs the built CLI (dist/cli.js, made by `npm run build`, which `npm install` runs through `prepare`).
import('../dist/cli.js');
