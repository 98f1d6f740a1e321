// A loopback Buildbarn cluster for gob's remote-execution tests, after bb-deployments' bare/
// example: storage in memory, one scheduler, workers with native build dirs (no FUSE).
// Ports and dirs come from the environment (Buildbarn reads every variable as an extVar).
{
  storage: 'localhost:' + std.extVar('GOB_BB_STORAGE_PORT'),
  blobstore: {
    contentAddressableStorage: { grpc: { address: $.storage } },
    actionCache: { grpc: { address: $.storage } },
  },
  maximumMessageSizeBytes: 16 * 1024 * 1024,
  allow: { allow: {} },
  // The platform every test worker offers.
  platform: { properties: [{ name: 'OSFamily', value: 'linux' }] },
}
