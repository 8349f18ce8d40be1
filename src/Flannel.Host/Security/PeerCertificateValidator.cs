using System.Security.Cryptography.X509Certificates;

namespace Flannel.Host.Security;

/// <summary>
/// Decides whether a peer's certificate is a flannel cluster credential: it must chain to one of the cluster CA
/// certificates (and only to those: the system trust store is never consulted, a certificate from a public CA is a
/// stranger's), be within its validity, and be meant for both ends of a connection (EKU serverAuth and clientAuth,
/// since every node dials and accepts). Revocation is not checked: a private CA has no CRL service; rotation replaces
/// the CA instead. Pure; the TLS callback around it is <see cref="ClusterTls"/>.
/// </summary>
public sealed class PeerCertificateValidator
{
    public const string ServerAuthOid = "1.3.6.1.5.5.7.3.1";
    public const string ClientAuthOid = "1.3.6.1.5.5.7.3.2";

    private readonly X509Certificate2Collection _trusted;

    /// <param name="trusted">The cluster CA certificates (several while a CA rotation rolls).</param>
    public PeerCertificateValidator(X509Certificate2Collection trusted)
    {
        if (trusted.Count == 0) throw new ArgumentException("at least one CA certificate is needed", nameof(trusted));
        _trusted = trusted;
    }

    public int TrustedCount => _trusted.Count;

    /// <summary>Null when <paramref name="peer"/> is acceptable, else why not.</summary>
    /// <param name="presented">The chain the peer sent, if any: its intermediates help building, never as trust anchors.</param>
    public string? Check(X509Certificate2? peer, X509Chain? presented = null, DateTime? now = null)
    {
        if (peer is null) return "no certificate presented";
        using var chain = new X509Chain();
        var policy = chain.ChainPolicy;
        policy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        policy.CustomTrustStore.AddRange(_trusted);
        policy.RevocationMode = X509RevocationMode.NoCheck;
        // Never fetch issuers named in the certificate (AIA): a stranger's certificate must not make us dial out.
        policy.DisableCertificateDownloads = true;
        if (now is { } at) policy.VerificationTime = at;
        if (presented is not null)
            foreach (var element in presented.ChainElements)
                if (!element.Certificate.RawDataMemory.Span.SequenceEqual(peer.RawDataMemory.Span))
                    policy.ExtraStore.Add(element.Certificate);
        if (!chain.Build(peer))
        {
            var problems = chain.ChainStatus.Select(s => s.Status).Where(s => s != X509ChainStatusFlags.NoError).Distinct().ToList();
            return problems.Contains(X509ChainStatusFlags.UntrustedRoot) || problems.Contains(X509ChainStatusFlags.PartialChain)
                ? "not issued by the cluster CA"
                : "invalid certificate: " + string.Join(", ", problems);
        }
        var usages = peer.Extensions.OfType<X509EnhancedKeyUsageExtension>().SelectMany(e => e.EnhancedKeyUsages.Cast<System.Security.Cryptography.Oid>())
            .Select(o => o.Value).ToHashSet();
        var missing = new List<string>();
        if (!usages.Contains(ServerAuthOid)) missing.Add("serverAuth");
        if (!usages.Contains(ClientAuthOid)) missing.Add("clientAuth");
        return missing.Count == 0 ? null : $"extended key usage lacks {string.Join(" and ", missing)}";
    }
}
