// CAS and action cache, in memory (the action cache takes one new block: entries are
// updated in place).
local common = import 'common.libsonnet';
local inMemory(blockBytes, entries, newBlocks) = {
  'local': {
    keyLocationMapInMemory: { entries: entries },
    keyLocationMapMaximumGetAttempts: 8,
    keyLocationMapMaximumPutAttempts: 32,
    oldBlocks: 8,
    currentBlocks: 24,
    newBlocks: newBlocks,
    blocksInMemory: { blockSizeBytes: blockBytes },
  },
};
{
  grpcServers: [{
    listenAddresses: [common.storage],
    authenticationPolicy: common.allow,
  }],
  maximumMessageSizeBytes: common.maximumMessageSizeBytes,
  contentAddressableStorage: {
    backend: inMemory(64 * 1024 * 1024, 100000, 3),
    getAuthorizer: common.allow,
    putAuthorizer: common.allow,
    findMissingAuthorizer: common.allow,
  },
  actionCache: {
    backend: inMemory(1024 * 1024, 10000, 1),
    getAuthorizer: common.allow,
    putAuthorizer: common.allow,
  },
}
