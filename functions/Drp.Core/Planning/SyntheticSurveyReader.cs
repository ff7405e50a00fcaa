using System.Runtime.CompilerServices;
using Drp.Core.Datasets;

namespace Drp.Core.Planning;

/// <summary>
/// The shape of a simulated survey for planning at scale. <see cref="Dp02"/> is DP0.2's: 19,852 visits, 189 LSSTCam
/// detectors of which ~150 per visit were in the data (reference/DP02-FACTS.md, RTN-039), 157 tracts × 49 patches,
/// 6 bands.
/// </summary>
/// <param name="Instrument">Instrument name.</param>
/// <param name="Visits">Number of visits; visit ids are 0..Visits-1 and visit v is taken in band <c>Bands[v % Bands.Count]</c>.</param>
/// <param name="Detectors">Detectors of the camera (0..Detectors-1).</param>
/// <param name="DetectorsPerVisit">Detectors with data in each visit: a window of this many, starting at a visit-dependent detector.</param>
/// <param name="Tracts">Number of tracts (ids from <see cref="FirstTract"/>).</param>
/// <param name="PatchesPerTract">Patches per tract (7 × 7 in the DP0.2 sky map).</param>
/// <param name="Bands">Band names.</param>
/// <param name="VisitsPerPatchBand">Visits overlapping each patch in each band (the warps of a coadd).</param>
/// <param name="FirstTract">Id of the first tract.</param>
public sealed record SyntheticSurvey(
    string Instrument,
    int Visits,
    int Detectors,
    int DetectorsPerVisit,
    int Tracts,
    int PatchesPerTract,
    IReadOnlyList<string> Bands,
    int VisitsPerPatchBand,
    int FirstTract = 2723)
{
    /// <summary>
    /// DP0.2's scale. Visits overlapping a patch per band: 19,852 visits × ~9.6 deg² over DC2's ~300 deg² put ~640
    /// visits over each point, ~100 per band; the warps of step 3 follow from that estimate, not from DP0.2's records.
    /// </summary>
    public static SyntheticSurvey Dp02 { get; } = new("LSSTCam", 19_852, 189, 150, 157, 49, ["u", "g", "r", "i", "z", "y"], 100);
}

/// <summary>
/// A synthetic <see cref="IDataIdReader"/>: generates a <see cref="SyntheticSurvey"/>'s data ids on the fly, in the
/// order the planner asks for, holding nothing. Every step's external inputs are taken to exist.
/// </summary>
public sealed class SyntheticSurveyReader(SyntheticSurvey survey) : IDataIdReader
{
    /// <summary>The survey generated.</summary>
    public SyntheticSurvey Survey { get; } = survey;

    /// <summary>The detectors with data in visit <paramref name="visit"/>, ascending.</summary>
    public IEnumerable<int> DetectorsOf(long visit)
    {
        int start = (int)(visit * 37 % Survey.Detectors);
        return Enumerable.Range(0, Survey.DetectorsPerVisit).Select(i => (start + i) % Survey.Detectors).Order();
    }

    /// <summary>The band of a visit.</summary>
    public string BandOf(long visit) => Survey.Bands[(int)(visit % Survey.Bands.Count)];

    /// <summary>The tract a visit's detectors fall on (one per visit here).</summary>
    public int TractOf(long visit) => Survey.FirstTract + (int)(visit % Survey.Tracts);

    /// <inheritdoc />
    public async IAsyncEnumerable<DataId> ReadAsync(PlanningQuery query, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await Task.Yield();
        var dims = query.Dimensions;
        bool hasVisit = dims.Contains("visit"), hasDetector = dims.Contains("detector"), hasTract = dims.Contains("tract"), hasPatch = dims.Contains("patch");
        string instrument = query.Instrument;
        if (hasPatch)
        {
            // Step 3: per patch (ascending tract, patch), per band, the visits of that band overlapping it.
            int visitsPerBand = Survey.Visits / Survey.Bands.Count;
            for (int t = 0; t < Survey.Tracts; t++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                for (int p = 0; p < Survey.PatchesPerTract; p++)
                {
                    long patchIndex = (long)t * Survey.PatchesPerTract + p;
                    for (int b = 0; b < Survey.Bands.Count; b++)
                    {
                        if (!hasVisit)
                        {
                            yield return new DataId(instrument, null, null, Survey.FirstTract + t, p, dims.Contains("band") ? Survey.Bands[b] : null);
                            continue;
                        }
                        for (int j = 0; j < Survey.VisitsPerPatchBand; j++)
                        {
                            long m = (patchIndex * 7 + (long)j * 31) % visitsPerBand;
                            yield return new DataId(instrument, m * Survey.Bands.Count + b, null, Survey.FirstTract + t, p, Survey.Bands[b]);
                        }
                    }
                }
            }
            yield break;
        }
        if (!hasVisit)
        {
            yield return new DataId(instrument);
            yield break;
        }
        for (long v = 0; v < Survey.Visits; v++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            string band = BandOf(v);
            int? tract = hasTract ? TractOf(v) : null;
            if (!hasDetector)
            {
                yield return new DataId(instrument, v, null, tract, null, band);
                continue;
            }
            foreach (int d in DetectorsOf(v))
            {
                yield return new DataId(instrument, v, d, tract, null, band);
            }
        }
    }
}
