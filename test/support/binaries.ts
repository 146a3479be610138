/** The tests find Temporal binaries the same way `npm run dev` does. */
export { findBinary } from '../../scripts/temporal-binaries';
