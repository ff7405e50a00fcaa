using Drp.Pipeline.Fits;
using Drp.Storage;
using Drp.Core.Datasets;
using Drp.Storage.Datasets;
using Drp.Storage.Registry;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;

namespace Drp.Workflows.Activities;

/// <summary>
/// Ingests one raw: reads only the FITS primary header (a range read of a few blocks), validates the keywords the
/// pipeline needs, and registers exposure and detector in the Registry (idempotent). A bad file is rejected with its
/// reason — recorded in the Registry, never retried; a storage fault throws and is retried.
/// </summary>
public sealed class IngestRawActivity(StorageClients storage, ILogger<IngestRawActivity> logger)
    : TaskActivity<IngestRawInput, IngestRawResult>
{
    /// <summary>First read: 8 header blocks (288 cards) is enough for every raw we know; more is read if needed.</summary>
    public const int FirstReadBytes = 8 * 2880;

    public const int MaxHeaderBytes = 256 * 2880;

    /// <summary>Keywords a raw's primary header must carry.</summary>
    public static readonly string[] RequiredKeywords = ["INSTRUME", "VISIT", "DETECTOR", "BAND", "EXPTIME", "MJD-OBS"];

    public override Task<IngestRawResult> RunAsync(TaskActivityContext context, IngestRawInput input) => ExecuteAsync(input);

    public async Task<IngestRawResult> ExecuteAsync(IngestRawInput input, CancellationToken cancellationToken = default)
    {
        var a = input.Arrival;
        var store = storage.StoreFor(a.Container);
        var registry = new RegistryTable(storage.Registry);
        FitsHeader header;
        try
        {
            header = await ReadPrimaryHeaderAsync(store, a.BlobName, cancellationToken);
        }
        catch (Exception e) when (e is FitsFormatException or DatasetNotFoundException)
        {
            return await RejectAsync(registry, a.Container, a.BlobName, e.GetType().Name, e.Message, cancellationToken);
        }

        var missing = RequiredKeywords.Where(k => !header.Contains(k)).ToList();
        if (missing.Count > 0)
        {
            return await RejectAsync(registry, a.Container, a.BlobName, "MissingKeyword",
                $"primary header lacks {string.Join(", ", missing)}", cancellationToken);
        }
        RawRecord raw;
        try
        {
            raw = new RawRecord(
                header.GetString("INSTRUME")!.Trim(),
                header.GetLong("VISIT"),
                header.GetInt("DETECTOR"),
                header.GetString("BAND")!.Trim(),
                header.GetDouble("EXPTIME"),
                header.GetDouble("MJD-OBS"),
                a.Container,
                a.BlobName,
                a.ETag);
        }
        catch (FitsFormatException e)
        {
            return await RejectAsync(registry, a.Container, a.BlobName, "InvalidValue", e.Message, cancellationToken);
        }
        if (raw.Instrument.Length == 0 || raw.Band.Length == 0 || raw.Visit < 0 || raw.Detector < 0 || !(raw.ExpTime > 0))
        {
            return await RejectAsync(registry, a.Container, a.BlobName, "InvalidValue",
                $"implausible header values: INSTRUME='{raw.Instrument}' BAND='{raw.Band}' VISIT={raw.Visit} DETECTOR={raw.Detector} EXPTIME={raw.ExpTime}", cancellationToken);
        }

        var (outcome, existing) = await registry.RegisterAsync(raw, cancellationToken);
        switch (outcome)
        {
            case RegisterOutcome.Registered:
                logger.LogInformation("Registered raw {Blob} as visit {Visit} detector {Detector} band {Band}", a.BlobName, raw.Visit, raw.Detector, raw.Band);
                return new IngestRawResult(IngestRawResult.Registered, a.Container, a.BlobName, raw.Instrument, raw.Visit, raw.Detector, null, raw.Band);
            case RegisterOutcome.AlreadyRegistered:
                logger.LogInformation("Raw {Blob} was already registered: duplicate arrival ignored", a.BlobName);
                return new IngestRawResult(IngestRawResult.Duplicate, a.Container, a.BlobName, raw.Instrument, raw.Visit, raw.Detector, "already registered", raw.Band);
            default:
                return await RejectAsync(registry, a.Container, a.BlobName, "DataIdConflict",
                    $"visit {raw.Visit} detector {raw.Detector} is already registered from {existing.Container}/{existing.BlobName}", cancellationToken);
        }
    }

    /// <summary>Reads blocks from the start of the blob until the primary header's END card.</summary>
    public static async Task<FitsHeader> ReadPrimaryHeaderAsync(DatasetStore store, string blobName, CancellationToken cancellationToken)
    {
        int length = FirstReadBytes;
        while (true)
        {
            var prefix = await store.ReadPrefixAsync(blobName, length, "raw", cancellationToken);
            if (FitsHeaderReader.TryParse(prefix, out var header, out _))
            {
                return header;
            }
            if (prefix.Length < length)
            {
                throw new FitsFormatException(FitsErrorKind.Truncated, $"{blobName}: the file ends ({prefix.Length} bytes) before the primary header's END card");
            }
            if (length >= MaxHeaderBytes)
            {
                throw new FitsFormatException(FitsErrorKind.MissingEnd, $"{blobName}: no END card in the first {MaxHeaderBytes} bytes");
            }
            length *= 4;
        }
    }

    private async Task<IngestRawResult> RejectAsync(RegistryTable registry, string container, string blob, string errorClass, string reason, CancellationToken ct)
    {
        logger.LogWarning("Rejected raw {Blob}: {ErrorClass}: {Reason}", blob, errorClass, reason);
        await registry.RecordRejectedAsync(container, blob, errorClass, reason, ct);
        return new IngestRawResult(IngestRawResult.Rejected, container, blob, null, null, null, $"{errorClass}: {reason}");
    }
}
