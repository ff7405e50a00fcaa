using Drp.Storage.Arrivals;

namespace Drp.Storage.Tests;

public sealed class BlobCreatedEventsTests
{
    [Fact]
    public void Parse_WhatCreateBuilds_GivesContainerBlobAndETag()
    {
        var json = BlobCreatedEvents.Create("acct", "raw", "LSSTCam/1/raw_1_002.fits",
            new Uri("http://127.0.0.1:10000/acct/raw/LSSTCam/1/raw_1_002.fits"), "0x8D", 12345, "ev-1");
        var a = BlobCreatedEvents.Parse(json);
        Assert.Equal(new RawArrival("ev-1", "raw", "LSSTCam/1/raw_1_002.fits", "0x8D", 12345), a);
    }

    [Fact]
    public void Parse_AzureDocumentedBlobCreatedEvent_IsUnderstood()
    {
        // The shape Event Grid delivers to a Storage queue (Event Grid schema), as in Azure's documentation.
        const string json = """
        {
          "topic": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/my",
          "subject": "/blobServices/default/containers/raw/blobs/visit/1/frame.fits",
          "eventType": "Microsoft.Storage.BlobCreated",
          "eventTime": "2017-06-26T18:41:00.9584103Z",
          "id": "831e1650-001e-001b-66ab-eeb76e069631",
          "data": {
            "api": "PutBlockList",
            "clientRequestId": "6d79dbfb-0e37-4fc4-981f-442c9ca65760",
            "requestId": "831e1650-001e-001b-66ab-eeb76e000000",
            "eTag": "0x8D4BCC2E4835CD0",
            "contentType": "application/octet-stream",
            "contentLength": 524288,
            "blobType": "BlockBlob",
            "url": "https://my.blob.core.windows.net/raw/visit/1/frame.fits",
            "sequencer": "00000000000004420000000000028963",
            "storageDiagnostics": { "batchId": "b68529f3-68cd-4744-baa4-3c0498ec19f0" }
          },
          "dataVersion": "",
          "metadataVersion": "1"
        }
        """;
        var a = BlobCreatedEvents.Parse(json);
        Assert.Equal("raw", a.Container);
        Assert.Equal("visit/1/frame.fits", a.BlobName);
        Assert.Equal(524288, a.ContentLength);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("{}")]
    [InlineData("""{"id":"1","subject":"/blobServices/default/containers/raw/blobs/x","eventType":"Microsoft.Storage.BlobDeleted","eventTime":"2020-01-01T00:00:00Z","data":{},"dataVersion":""}""")]
    [InlineData("""{"id":"1","subject":"/somewhere/else","eventType":"Microsoft.Storage.BlobCreated","eventTime":"2020-01-01T00:00:00Z","data":{},"dataVersion":""}""")]
    public void Parse_NotABlobCreatedEvent_ThrowsInvalidArrival(string text) =>
        Assert.Throws<InvalidArrivalException>(() => BlobCreatedEvents.Parse(text));
}
