/*
 * Signs with Key Vault keys through Java 17's SunPKCS11 provider and
 * verifies with the JDK's own software providers (SunRsaSign, SunEC).
 *
 *   java AzkvSign SUNPKCS11_CONFIG LABEL:ALGORITHM:PUBLIC_KEY_PEM...
 *
 * e.g. AzkvSign azkv.cfg rsa2048:SHA256withRSA:rsa2048.pem ec256:SHA256withECDSA:ec256.pem
 *
 * The keys are taken from the PKCS11 KeyStore when it has an entry for the
 * label. SunPKCS11's KeyStore only shows a private key that has a matching
 * certificate object on the token (P11KeyStore.mapLabels: "did not find
 * match for private key ... (ignoring entry)"), and the module exposes keys
 * without certificates; then the key object is loaded through SunPKCS11's
 * own key loader (P11KeyStore.loadPkey, the code the KeyStore uses for its
 * entries), which needs --add-opens. Either way the signature is made by
 * SunPKCS11's Signature implementation, i.e. by C_SignInit/C_Sign in the
 * module. The public key comes from the PEM exported from the vault.
 *
 * Prints one "ok - ..." / "not ok - ..." line per signature; exits 1 on any
 * failure.
 */
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.PublicKey;
import java.security.Security;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.Collections;

import sun.security.pkcs11.wrapper.CK_ATTRIBUTE;
import sun.security.pkcs11.wrapper.PKCS11;
import sun.security.pkcs11.wrapper.PKCS11Constants;

public class AzkvSign {
    private static int failures = 0;

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: AzkvSign CONFIG LABEL:ALGORITHM:PUBLIC_PEM...");
            System.exit(2);
        }
        Provider p11 = Security.getProvider("SunPKCS11").configure(args[0]);
        Security.addProvider(p11);
        KeyStore ks = KeyStore.getInstance("PKCS11", p11);
        ks.load(null, "any".toCharArray());
        System.out.println("# provider " + p11.getName() + ", keystore entries: "
                + Collections.list(ks.aliases()));

        byte[] data = "azkv-pkcs11 interop: Java SunPKCS11".getBytes(StandardCharsets.UTF_8);
        for (int i = 1; i < args.length; i++) {
            String[] spec = args[i].split(":", 3);
            String label = spec[0], alg = spec[1];
            String what = "java " + alg + " " + label;
            try {
                PrivateKey key;
                String from;
                if (ks.isKeyEntry(label)) {
                    key = (PrivateKey) ks.getKey(label, null);
                    from = "KeyStore entry";
                } else {
                    key = loadPrivateKey(p11, label);
                    from = "token object (no KeyStore entry without a certificate)";
                }
                Signature signer = Signature.getInstance(alg, p11);
                signer.initSign(key);
                signer.update(data);
                byte[] sig = signer.sign();

                PublicKey pub = readPublicKey(Path.of(spec[2]), key.getAlgorithm());
                String soft = key.getAlgorithm().equals("EC") ? "SunEC" : "SunRsaSign";
                Signature verifier = Signature.getInstance(alg, soft);
                verifier.initVerify(pub);
                verifier.update(data);
                boolean good = verifier.verify(sig);
                verifier.initVerify(pub);
                verifier.update("something else".getBytes(StandardCharsets.UTF_8));
                boolean forged = verifier.verify(sig);
                if (good && !forged) {
                    System.out.println("ok - " + what + ": signed by " + signer.getProvider().getName()
                            + " with the " + from + ", " + sig.length + "-byte signature verified by "
                            + verifier.getProvider().getName());
                } else {
                    System.out.println("not ok - " + what + ": " + soft + " says the signature is "
                            + (good ? "valid for other data too" : "invalid"));
                    failures++;
                }
            } catch (Exception e) {
                System.out.println("not ok - " + what + ": " + e);
                for (Throwable c = e.getCause(); c != null; c = c.getCause())
                    System.out.println("#   caused by " + c);
                failures++;
            }
        }
        System.exit(failures == 0 ? 0 : 1);
    }

    /* The private key object labelled label, loaded the way SunPKCS11's
     * KeyStore loads the private key of an entry. */
    private static PrivateKey loadPrivateKey(Provider provider, String label) throws Exception {
        Method getToken = provider.getClass().getDeclaredMethod("getToken");
        getToken.setAccessible(true);
        Object token = getToken.invoke(provider);
        Class<?> tokenClass = token.getClass();
        Field p11Field = tokenClass.getDeclaredField("p11");
        p11Field.setAccessible(true);
        PKCS11 p11 = (PKCS11) p11Field.get(token);
        Method getObjSession = tokenClass.getDeclaredMethod("getObjSession");
        getObjSession.setAccessible(true);
        Method releaseSession = tokenClass.getDeclaredMethod("releaseSession",
                Class.forName("sun.security.pkcs11.Session"));
        releaseSession.setAccessible(true);
        Method getKeyStore = tokenClass.getDeclaredMethod("getKeyStore");
        getKeyStore.setAccessible(true);
        Object keyStoreSpi = getKeyStore.invoke(token);
        Object session = getObjSession.invoke(token);
        try {
            Method id = session.getClass().getDeclaredMethod("id");
            id.setAccessible(true);
            long sid = (Long) id.invoke(session);
            CK_ATTRIBUTE[] template = {
                new CK_ATTRIBUTE(PKCS11Constants.CKA_CLASS, PKCS11Constants.CKO_PRIVATE_KEY),
                new CK_ATTRIBUTE(PKCS11Constants.CKA_LABEL, label.toCharArray()),
            };
            p11.C_FindObjectsInit(sid, template);
            long[] found;
            try {
                found = p11.C_FindObjects(sid, 2);
            } finally {
                p11.C_FindObjectsFinal(sid);
            }
            if (found.length != 1)
                throw new IllegalStateException(found.length + " private key objects labelled " + label);
            Method loadPkey = keyStoreSpi.getClass().getDeclaredMethod("loadPkey",
                    session.getClass(), long.class);
            loadPkey.setAccessible(true);
            return (PrivateKey) loadPkey.invoke(keyStoreSpi, session, found[0]);
        } finally {
            releaseSession.invoke(token, session);
        }
    }

    private static PublicKey readPublicKey(Path pem, String algorithm) throws Exception {
        String text = Files.readString(pem, StandardCharsets.US_ASCII)
                .replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
        byte[] der = Base64.getDecoder().decode(text);
        String soft = algorithm.equals("EC") ? "SunEC" : "SunRsaSign";
        return KeyFactory.getInstance(algorithm, soft).generatePublic(new X509EncodedKeySpec(der));
    }
}
