// Entry point of the `ductape` executable.
import { main } from './index.js';

await main(process.argv);
