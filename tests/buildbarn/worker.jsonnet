// One worker: one runner, one action at a time (an integration package runs alone).
local common = import 'common.libsonnet';
local dir = std.extVar('GOB_BB_WORKER_DIR');
{
  blobstore: common.blobstore,
  browserUrl: 'http://localhost',
  maximumMessageSizeBytes: common.maximumMessageSizeBytes,
  scheduler: { address: 'localhost:' + std.extVar('GOB_BB_SCHEDULER_WORKER_PORT') },
  buildDirectories: [{
    native: {
      buildDirectoryPath: dir + '/build',
      cacheDirectoryPath: dir + '/cache',
      maximumCacheFileCount: 10000,
      maximumCacheSizeBytes: 1024 * 1024 * 1024,
      cacheReplacementPolicy: 'LEAST_RECENTLY_USED',
    },
    runners: [{
      endpoint: { address: 'unix:' + dir + '/runner' },
      concurrency: 1,
      platform: common.platform,
      workerId: { worker: std.extVar('GOB_BB_WORKER_NAME') },
    }],
  }],
  inputDownloadConcurrency: 10,
  outputUploadConcurrency: 10,
}
