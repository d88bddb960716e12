// The smallest --volume-size: a volume must hold at least the manifest and a few headers.
// Its own module so the job runner can check the flag without loading the bundler.
export const minVolumeSize = 64 * 1024;
