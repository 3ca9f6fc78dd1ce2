// Profile names for the profile quick pick (read by the engine's dependency-free profiles module).
export { listProfiles, profileNamesIn, isValidProfileName } from '../core/frontEnd';

/** Regions offered in the region quick pick (any other can be typed). */
export const COMMON_REGIONS = [
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'ca-central-1',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'eu-central-1',
  'eu-north-1',
  'ap-south-1',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-southeast-1',
  'ap-southeast-2',
  'sa-east-1',
];
