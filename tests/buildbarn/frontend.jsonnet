// What clients talk to: CAS and action cache proxied to storage, Execute to the scheduler.
local common = import 'common.libsonnet';
{
  grpcServers: [{
    listenAddresses: ['localhost:' + std.extVar('GOB_BB_FRONTEND_PORT')],
    authenticationPolicy: common.allow,
  }],
  schedulers: {
    '': { endpoint: { address: 'localhost:' + std.extVar('GOB_BB_SCHEDULER_CLIENT_PORT') } },
  },
  maximumMessageSizeBytes: common.maximumMessageSizeBytes,
  contentAddressableStorage: {
    backend: common.blobstore.contentAddressableStorage,
    getAuthorizer: common.allow,
    putAuthorizer: common.allow,
    findMissingAuthorizer: common.allow,
  },
  actionCache: {
    backend: common.blobstore.actionCache,
    getAuthorizer: common.allow,
    putAuthorizer: common.allow,
  },
  executeAuthorizer: common.allow,
}
