// BlobCreated in the raw container -> Event Grid system topic -> the arrivals Storage queue (QueueTrigger).
// Delivery uses a managed identity allowed only to send messages to that one queue.

@description('Region of the system topic (the storage account\'s).')
param location string

@description('Tags for every resource.')
param tags object

@description('System topic name.')
param systemTopicName string

@description('Storage account whose events are published.')
param storageAccountName string

@description('Container whose new blobs are raw arrivals.')
param rawContainer string

@description('Storage queue the events are delivered to.')
param arrivalsQueue string

@description('Resource id of the delivering identity.')
param identityId string

@description('Principal id of the delivering identity.')
param identityPrincipalId string

var queueDataMessageSender = 'c6a89b2d-59bc-44d0-9896-0f6e12d7b80a'

resource account 'Microsoft.Storage/storageAccounts@2025-01-01' existing = {
  name: storageAccountName

  resource queueService 'queueServices' existing = {
    name: 'default'

    resource queue 'queues' existing = {
      name: arrivalsQueue
    }
  }
}

resource sendToArrivals 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(account::queueService::queue.id, identityId, queueDataMessageSender)
  scope: account::queueService::queue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', queueDataMessageSender)
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource systemTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' = {
  name: systemTopicName
  location: location
  tags: tags
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    source: account.id
    topicType: 'Microsoft.Storage.StorageAccounts'
  }
}

resource rawCreated 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2025-02-15' = {
  parent: systemTopic
  name: 'raw-blob-created'
  dependsOn: [sendToArrivals] // delivery must be allowed before the first event
  properties: {
    eventDeliverySchema: 'EventGridSchema' // BlobCreatedEvents.Parse reads the Event Grid schema
    filter: {
      includedEventTypes: ['Microsoft.Storage.BlobCreated']
      subjectBeginsWith: '/blobServices/default/containers/${rawContainer}/'
    }
    retryPolicy: { maxDeliveryAttempts: 30, eventTimeToLiveInMinutes: 1440 }
    deliveryWithResourceIdentity: {
      identity: { type: 'UserAssigned', userAssignedIdentity: identityId }
      destination: {
        endpointType: 'StorageQueue'
        properties: {
          resourceId: account.id
          queueName: arrivalsQueue
          queueMessageTimeToLiveInSeconds: -1 // never expire: an unprocessed arrival is never silently lost
        }
      }
    }
  }
}

output systemTopicName string = systemTopic.name
