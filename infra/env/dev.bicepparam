// dev: small, scales to zero, cheapest tiers; Consumption profile only (memory classes capped at 4 vCPU / 8 GiB).
using '../main.bicep'

param environmentName = 'dev'
param location = 'swedencentral'
param storageSkuName = 'Standard_LRS'
param blobSoftDeleteDays = 7
param logRetentionDays = 30
param logDailyQuotaGb = 1
param functionMaximumInstanceCount = 20
param functionInstanceMemoryMB = 2048
param durableAlwaysReadyInstances = 0
param serviceBusSkuName = 'Basic'
param jobMessageTimeToLive = 'P2D'
// Raws process themselves through steps 1 and 2 into this run as they arrive.
param arrivalRun = 'dev-arrivals'
param registrySkuName = 'Basic'
param workloadProfiles = []
param memoryClasses = [
  {
    name: 'standard'
    workloadProfileName: 'Consumption'
    cpu: '1.0'
    memory: '2Gi'
    replicaTimeoutSeconds: 1800
    replicaRetryLimit: 1
    maxExecutions: 5
    maxDeliveryCount: 3
  }
  {
    name: 'highmem'
    workloadProfileName: 'Consumption'
    cpu: '2.0'
    memory: '4Gi'
    replicaTimeoutSeconds: 3600
    replicaRetryLimit: 1
    maxExecutions: 2
    maxDeliveryCount: 3
  }
  {
    name: 'extra-highmem'
    workloadProfileName: 'Consumption'
    cpu: '4.0'
    memory: '8Gi'
    replicaTimeoutSeconds: 7200
    replicaRetryLimit: 0
    maxExecutions: 1
    maxDeliveryCount: 2
  }
]
