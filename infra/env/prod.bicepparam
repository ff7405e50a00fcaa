// prod: zone-redundant storage, longer retention, no ingestion cap, one always-ready Durable instance, and
// memory-optimised dedicated profiles (scaled to zero nodes when idle) for the high-memory classes.
using '../main.bicep'

param environmentName = 'prod'
param location = 'swedencentral'
param storageSkuName = 'Standard_ZRS'
param blobSoftDeleteDays = 30
param logRetentionDays = 90
param logDailyQuotaGb = -1
param functionMaximumInstanceCount = 100
param functionInstanceMemoryMB = 4096
param durableAlwaysReadyInstances = 1
param serviceBusSkuName = 'Standard'
param jobMessageTimeToLive = 'P14D'
// Raws process themselves through steps 1 and 2 into this run as they arrive.
param arrivalRun = 'prod-arrivals'
param registrySkuName = 'Standard'
param workloadProfiles = [
  { name: 'highmem', workloadProfileType: 'E8', minimumCount: 0, maximumCount: 10 }
  { name: 'extra-highmem', workloadProfileType: 'E32', minimumCount: 0, maximumCount: 4 }
]
param memoryClasses = [
  {
    name: 'standard'
    workloadProfileName: 'Consumption'
    cpu: '2.0'
    memory: '4Gi'
    replicaTimeoutSeconds: 7200
    replicaRetryLimit: 2
    maxExecutions: 200
    maxDeliveryCount: 5
  }
  {
    name: 'highmem'
    workloadProfileName: 'highmem'
    cpu: '4.0'
    memory: '32Gi'
    replicaTimeoutSeconds: 14400
    replicaRetryLimit: 1
    maxExecutions: 20
    maxDeliveryCount: 3
  }
  {
    name: 'extra-highmem'
    workloadProfileName: 'extra-highmem'
    cpu: '16.0'
    memory: '192Gi'
    replicaTimeoutSeconds: 28800
    replicaRetryLimit: 0
    maxExecutions: 4
    maxDeliveryCount: 2
  }
]
