using System.ComponentModel.DataAnnotations;

namespace Drp.Storage;

/// <summary>
/// Where this deployment keeps its data: bound from the configuration section <c>Drp:Storage</c>. The account is
/// reached one of two ways, never both: a <see cref="ConnectionString"/> (Azurite, local runs) or the three service
/// URIs with a Microsoft Entra credential (Azure: a managed identity, no keys anywhere).
/// </summary>
public sealed class DrpStorageOptions : IValidatableObject
{
    public const string SectionName = "Drp:Storage";

    /// <summary>A storage connection string (Azurite or a real account). Locally drp starts Azurite when it is empty.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Blob service endpoint (<c>https://{account}.blob.core.windows.net/</c>) for identity-based access.</summary>
    public string? BlobServiceUri { get; set; }

    /// <summary>Queue service endpoint for identity-based access.</summary>
    public string? QueueServiceUri { get; set; }

    /// <summary>Table service endpoint for identity-based access.</summary>
    public string? TableServiceUri { get; set; }

    /// <summary>Client id of the user-assigned managed identity to use with the service URIs; empty: <c>DefaultAzureCredential</c>.</summary>
    public string? ManagedIdentityClientId { get; set; }

    /// <summary>True when the service URIs, not a connection string, say how to reach the account.</summary>
    public bool UsesServiceUris => string.IsNullOrWhiteSpace(ConnectionString);

    /// <summary>Container where raw detector images land; every upload raises a BlobCreated event.</summary>
    [Required]
    public string RawContainer { get; set; } = "raw";

    /// <summary>Container for every data product and calibration, addressed by <see cref="Datasets.DatasetPaths"/>.</summary>
    [Required]
    public string DataContainer { get; set; } = "drp-data";

    /// <summary>Storage queue that Event Grid delivers raw BlobCreated events to.</summary>
    [Required]
    public string ArrivalsQueue { get; set; } = "raw-arrivals";

    /// <summary>Table of ingested exposures and detectors (the Registry).</summary>
    [Required]
    public string RegistryTable { get; set; } = "DrpRegistry";

    /// <summary>Table with one row per quantum per run: the ledger of outcomes.</summary>
    [Required]
    public string LedgerTable { get; set; } = "DrpQuanta";

    /// <summary>Serving table for Source rows (partitioned by ccdVisitId).</summary>
    [Required]
    public string SourceTable { get; set; } = "DrpSource";

    /// <summary>Serving table for CcdVisit rows (partitioned by visitId).</summary>
    [Required]
    public string CcdVisitTable { get; set; } = "DrpCcdVisit";

    /// <summary>Serving table for Visit rows (partitioned by band).</summary>
    [Required]
    public string VisitTable { get; set; } = "DrpVisit";

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        string[] uris = [nameof(BlobServiceUri), nameof(QueueServiceUri), nameof(TableServiceUri)];
        string?[] values = [BlobServiceUri, QueueServiceUri, TableServiceUri];
        bool anyUri = values.Any(v => !string.IsNullOrWhiteSpace(v));
        if (!string.IsNullOrWhiteSpace(ConnectionString))
        {
            if (anyUri)
            {
                yield return new ValidationResult(
                    $"{SectionName}: set either ConnectionString or the service URIs, not both", [nameof(ConnectionString), .. uris]);
            }
            yield break;
        }
        for (int i = 0; i < uris.Length; i++)
        {
            if (!Uri.TryCreate(values[i], UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
            {
                yield return new ValidationResult(anyUri
                    ? $"{SectionName}:{uris[i]} must be an absolute http(s) URI when the service URIs are used"
                    : $"{SectionName}: set ConnectionString, or BlobServiceUri, QueueServiceUri and TableServiceUri", [uris[i]]);
                if (!anyUri)
                {
                    yield break;
                }
            }
        }
    }
}
