// Dumps the scenarios of the HTTP cache test suite (https://github.com/http-tests/cache-tests, BSD 3-Clause,
// Copyright (c) 2018, Mark Nottingham; see LICENSE here) as JSON: the data only, for brisk's own runner
// (../cache_tests_runner.py). Run from a checkout of that repository:
//   node /path/to/dump.mjs "$(git rev-parse HEAD)" > scenarios.json
import suites from './tests/index.mjs'

const commit = process.argv[2] || 'unknown'
process.stdout.write(JSON.stringify({
  source: 'https://github.com/http-tests/cache-tests',
  commit,
  license: 'BSD-3-Clause, Copyright (c) 2018, Mark Nottingham (see LICENSE)',
  suites
}, null, 1) + '\n')
