// Service Bus: one job queue per memory class (drp-jobs-<class>). Local (SAS) auth is off. Completions do not travel here:
// runners report on the Storage completions queue (app/storage.bicep), which the Function App's queue trigger reads
// (the Functions Service Bus extension is not used).
// Roles per job queue: the Function App sends, the jobs receive and send (an out-of-memory job goes to the next
// class's queue), the KEDA scaler reads queue lengths. Completions: the jobs send, the Function App receives.

import { memoryClass } from '../types.bicep'

@description('Region of the namespace.')
param location string

@description('Tags for every resource.')
param tags object

@description('Namespace name.')
param name string

@description('Namespace tier.')
param skuName string

@description('Memory classes: one queue each.')
param memoryClasses memoryClass[]

@description('Time a job message lives before it expires into the dead-letter queue (ISO 8601).')
param messageTimeToLive string

@description('Function App identity (resource id names its role assignments): dispatches jobs.')
param senderIdentityId string

@description('Principal id of the Function App identity.')
param senderPrincipalId string

@description('Container jobs identity (resource id): receives and completes jobs.')
param receiverIdentityId string

@description('Principal id of the container jobs identity.')
param receiverPrincipalId string

@description('KEDA scaler identity (resource id): the azure-servicebus scaler reads queue runtime properties, which needs the Manage claim.')
param scalerIdentityId string

@description('Principal id of the scaler identity.')
param scalerPrincipalId string

var roles = {
  sender: '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'
  receiver: '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0'
  owner: '090c5cfd-751d-490a-894a-3ce6f1109419'
}

resource namespace 'Microsoft.ServiceBus/namespaces@2026-01-01' = {
  name: name
  location: location
  tags: tags
  sku: { name: skuName, tier: skuName }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
  }
}

resource queues 'Microsoft.ServiceBus/namespaces/queues@2026-01-01' = [
  for c in memoryClasses: {
    parent: namespace
    name: 'drp-jobs-${c.name}'
    properties: {
      // The longest lock Service Bus allows; the runner renews it for longer jobs (heartbeats).
      lockDuration: 'PT5M'
      maxDeliveryCount: c.maxDeliveryCount
      deadLetteringOnMessageExpiration: true
      defaultMessageTimeToLive: messageTimeToLive
      maxSizeInMegabytes: 1024
    }
  }
]

resource send 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (c, i) in memoryClasses: {
    name: guid(queues[i].id, senderIdentityId, roles.sender)
    scope: queues[i]
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.sender)
      principalId: senderPrincipalId
      principalType: 'ServicePrincipal'
    }
  }
]

resource receive 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (c, i) in memoryClasses: {
    name: guid(queues[i].id, receiverIdentityId, roles.receiver)
    scope: queues[i]
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.receiver)
      principalId: receiverPrincipalId
      principalType: 'ServicePrincipal'
    }
  }
]

resource escalate 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (c, i) in memoryClasses: {
    name: guid(queues[i].id, receiverIdentityId, roles.sender)
    scope: queues[i]
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.sender)
      principalId: receiverPrincipalId
      principalType: 'ServicePrincipal'
    }
  }
]

resource scale 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (c, i) in memoryClasses: {
    name: guid(queues[i].id, scalerIdentityId, roles.owner)
    scope: queues[i]
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.owner)
      principalId: scalerPrincipalId
      principalType: 'ServicePrincipal'
    }
  }
]

output name string = namespace.name
