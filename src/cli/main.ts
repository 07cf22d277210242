/**
 * @file main.ts
 * @brief Runs the CLI from source (tests spawn `node --import tsx src/cli/main.ts ...`).
 */
import { main } from './index';

main(process.argv);
