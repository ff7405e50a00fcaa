// Serverless.Drp: the whole system for one environment (dev, prod), secure by default.
// Deploy with a parameter file from infra/env (what-if first): see the README's "Deploy" section.
// Identity everywhere: shared-key access is off on storage, local auth is off on Service Bus, Application Insights
// and the registry; every role assignment is named guid(scope, principal, role) and scoped as narrowly as it can be.
targetScope = 'subscription'

import { memoryClass, workloadProfile } from 'types.bicep'

metadata description = 'Serverless.Drp: Durable Functions orchestrations, Container Apps jobs for heavy quanta, storage, events, monitoring.'

@description('Environment name (dev, prod): names the resource group and seeds the resource token.')
@minLength(1)
@maxLength(16)
param environmentName string

@description('Azure region of every resource; it must offer Flex Consumption and Container Apps workload profiles.')
param location string

@description('Storage redundancy: Standard_LRS (dev) or Standard_ZRS (prod).')
@allowed(['Standard_LRS', 'Standard_ZRS', 'Standard_GRS', 'Standard_GZRS'])
param storageSkuName string

@description('Days a deleted blob or container can be recovered.')
@minValue(1)
@maxValue(365)
param blobSoftDeleteDays int

@description('Days Log Analytics keeps logs (30 is included in the ingestion price).')
@minValue(30)
@maxValue(730)
param logRetentionDays int

@description('Daily Log Analytics ingestion cap in GB; -1 for none.')
param logDailyQuotaGb int

@description('Most Function App instances (Flex Consumption scales out to this).')
@minValue(1)
@maxValue(1000)
param functionMaximumInstanceCount int

@description('Memory of one Function App instance in MB (2048 or 4096).')
@allowed([512, 2048, 4096])
param functionInstanceMemoryMB int

@description('Always-ready instances for the Durable Functions group; 0 scales to zero when idle.')
@minValue(0)
param durableAlwaysReadyInstances int

@description('Service Bus tier: Basic has no base fee; Standard adds topics and duplicate detection.')
@allowed(['Basic', 'Standard', 'Premium'])
param serviceBusSkuName string

@description('Time a job message lives in its queue before it expires into the dead-letter queue (ISO 8601).')
param jobMessageTimeToLive string

@description('Container registry tier for the Drp.Jobs image.')
@allowed(['Basic', 'Standard', 'Premium'])
param registrySkuName string

@description('Dedicated workload profiles for the memory classes that need more than 4 vCPU / 8 GiB (none: Consumption only).')
param workloadProfiles workloadProfile[]

@description('One Service Bus queue and one Container Apps job per memory class.')
@minLength(1)
param memoryClasses memoryClass[]

@description('Drp.Jobs image; the default is a public placeholder until the first image is pushed to the registry.')
param jobsImage string = 'mcr.microsoft.com/k8se/quickstart-jobs:latest'

@description('Durable Functions task hub name (letters and digits).')
@minLength(3)
@maxLength(45)
param taskHubName string = 'drp'

@description('Run collection that raws process themselves into as they arrive (steps 1 and 2); empty: arrivals are only ingested.')
param arrivalRun string

@description('Detectors a visit of the instrument has (LSSTCam: 189): a visit\'s step 2 runs once this many have a step-1 outcome; 0 waits for the quiet time only.')
param expectedDetectors int = 189

@description('A visit\'s step 2 also runs after this long with no new arrival of it (a TimeSpan, e.g. 00:10:00).')
param visitQuietTime string = '00:10:00'

@description('Object id of an operator (user or group) allowed to upload raws and read catalogs; empty for none.')
param operatorPrincipalId string = ''

@description('Principal type of operatorPrincipalId.')
@allowed(['User', 'Group', 'ServicePrincipal'])
param operatorPrincipalType string = 'User'

var abbrs = loadJsonContent('abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'drp-env': environmentName, system: 'serverless-drp' }

// One place for the names the code and the templates share; the settings cross-check test holds them to the code.
var names = {
  rawContainer: 'raw'
  dataContainer: 'drp-data'
  deploymentContainer: 'app-package'
  arrivalsQueue: 'raw-arrivals'
  completionsQueue: 'drp-job-completions'
  registryTable: 'DrpRegistry'
  ledgerTable: 'DrpQuanta'
  sourceTable: 'DrpSource'
  ccdVisitTable: 'DrpCcdVisit'
  visitTable: 'DrpVisit'
}

// Names and identity ids are computed up front (not taken from module outputs), so what-if predicts every
// resource and every role assignment name: guid(scope, principal's identity resource id, role).
var rgName = '${abbrs.resourcesResourceGroups}drp-${environmentName}'
var storageAccountName = '${abbrs.storageStorageAccounts}${resourceToken}'
var logAnalyticsName = '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
var applicationInsightsName = '${abbrs.insightsComponents}${resourceToken}'
var serviceBusName = '${abbrs.serviceBusNamespaces}${resourceToken}'
var identityNames = {
  functions: '${abbrs.managedIdentityUserAssignedIdentities}func-${resourceToken}'
  jobs: '${abbrs.managedIdentityUserAssignedIdentities}jobs-${resourceToken}'
  scaler: '${abbrs.managedIdentityUserAssignedIdentities}scaler-${resourceToken}'
  events: '${abbrs.managedIdentityUserAssignedIdentities}events-${resourceToken}'
}
var identityIds = {
  functions: resourceId(subscription().subscriptionId, rgName, 'Microsoft.ManagedIdentity/userAssignedIdentities', identityNames.functions)
  jobs: resourceId(subscription().subscriptionId, rgName, 'Microsoft.ManagedIdentity/userAssignedIdentities', identityNames.jobs)
  scaler: resourceId(subscription().subscriptionId, rgName, 'Microsoft.ManagedIdentity/userAssignedIdentities', identityNames.scaler)
  events: resourceId(subscription().subscriptionId, rgName, 'Microsoft.ManagedIdentity/userAssignedIdentities', identityNames.events)
}

resource rg 'Microsoft.Resources/resourceGroups@2025-04-01' = {
  name: rgName
  location: location
  tags: tags
}

module identities 'app/identities.bicep' = {
  name: 'identities'
  scope: rg
  params: {
    location: location
    tags: tags
    functionsIdentityName: identityNames.functions
    jobsIdentityName: identityNames.jobs
    scalerIdentityName: identityNames.scaler
    eventsIdentityName: identityNames.events
  }
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    location: location
    tags: tags
    logAnalyticsName: logAnalyticsName
    applicationInsightsName: applicationInsightsName
    retentionInDays: logRetentionDays
    dailyQuotaGb: logDailyQuotaGb
    publisherIdentityId: identityIds.functions
    publisherPrincipalId: identities.outputs.functionsPrincipalId
  }
}

module storage 'app/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    location: location
    tags: tags
    name: storageAccountName
    skuName: storageSkuName
    softDeleteDays: blobSoftDeleteDays
    names: names
    taskHubName: taskHubName
    functionsIdentityId: identityIds.functions
    functionsPrincipalId: identities.outputs.functionsPrincipalId
    jobsIdentityId: identityIds.jobs
    jobsPrincipalId: identities.outputs.jobsPrincipalId
    operatorPrincipalId: operatorPrincipalId
    operatorPrincipalType: operatorPrincipalType
  }
}

module events 'app/events.bicep' = {
  name: 'events'
  scope: rg
  dependsOn: [storage]
  params: {
    location: location
    tags: tags
    systemTopicName: '${abbrs.eventGridDomainsTopics}${resourceToken}'
    storageAccountName: storageAccountName
    rawContainer: names.rawContainer
    arrivalsQueue: names.arrivalsQueue
    identityId: identityIds.events
    identityPrincipalId: identities.outputs.eventsPrincipalId
  }
}

module serviceBus 'app/servicebus.bicep' = {
  name: 'servicebus'
  scope: rg
  params: {
    location: location
    tags: tags
    name: serviceBusName
    skuName: serviceBusSkuName
    memoryClasses: memoryClasses
    messageTimeToLive: jobMessageTimeToLive
    senderIdentityId: identityIds.functions
    senderPrincipalId: identities.outputs.functionsPrincipalId
    receiverIdentityId: identityIds.jobs
    receiverPrincipalId: identities.outputs.jobsPrincipalId
    scalerIdentityId: identityIds.scaler
    scalerPrincipalId: identities.outputs.scalerPrincipalId
  }
}

module registry 'app/registry.bicep' = {
  name: 'registry'
  scope: rg
  params: {
    location: location
    tags: tags
    name: '${abbrs.containerRegistryRegistries}${resourceToken}'
    skuName: registrySkuName
    pullIdentityId: identityIds.jobs
    pullPrincipalId: identities.outputs.jobsPrincipalId
  }
}

module functions 'app/functions.bicep' = {
  name: 'functions'
  scope: rg
  dependsOn: [monitoring, storage, serviceBus]
  params: {
    location: location
    tags: tags
    planName: '${abbrs.webServerFarms}${resourceToken}'
    appName: '${abbrs.webSitesFunctions}drp-${resourceToken}'
    identityId: identityIds.functions
    identityClientId: identities.outputs.functionsClientId
    applicationInsightsName: applicationInsightsName
    storageAccountName: storageAccountName
    names: names
    taskHubName: taskHubName
    maximumInstanceCount: functionMaximumInstanceCount
    instanceMemoryMB: functionInstanceMemoryMB
    durableAlwaysReadyInstances: durableAlwaysReadyInstances
    serviceBusNamespace: serviceBusName
    arrivalRun: arrivalRun
    expectedDetectors: expectedDetectors
    visitQuietTime: visitQuietTime
  }
}

module jobs 'app/jobs.bicep' = {
  name: 'jobs'
  scope: rg
  dependsOn: [monitoring, storage, serviceBus]
  params: {
    location: location
    tags: tags
    environmentName: '${abbrs.appManagedEnvironments}${resourceToken}'
    jobNamePrefix: abbrs.appContainerAppsJobs
    resourceToken: resourceToken
    logAnalyticsName: logAnalyticsName
    workloadProfiles: workloadProfiles
    memoryClasses: memoryClasses
    image: jobsImage
    registryLoginServer: registry.outputs.loginServer
    jobsIdentityId: identityIds.jobs
    jobsIdentityClientId: identities.outputs.jobsClientId
    scalerIdentityId: identityIds.scaler
    serviceBusNamespace: serviceBusName
    storageAccountName: storageAccountName
    names: names
  }
}

output AZURE_LOCATION string = location
output AZURE_RESOURCE_GROUP string = rg.name
output FUNCTION_APP_NAME string = functions.outputs.name
output STORAGE_ACCOUNT_NAME string = storage.outputs.name
output STORAGE_BLOB_ENDPOINT string = storage.outputs.blobEndpoint
output CONTAINER_REGISTRY_LOGIN_SERVER string = registry.outputs.loginServer
output SERVICE_BUS_NAMESPACE string = serviceBus.outputs.name
output JOB_NAMES string[] = jobs.outputs.jobNames
