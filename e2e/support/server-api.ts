// The sync server's HTTP API, for state the tests create or change behind the UI's back
// (pairing a helper device, revoking a device). Never used for what the tests check through the UI.

export interface PairedDevice {
  token: string;
  deviceId: string;
}

export class ServerApi {
  constructor(private readonly baseUrl: () => string) {}

  private async post(path: string, body: unknown, token?: string): Promise<{ status: number; json: any; text: string }> {
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (token) headers.Authorization = `Bearer ${token}`;
    const res = await fetch(this.baseUrl() + path, { method: 'POST', headers, body: JSON.stringify(body) });
    const text = await res.text();
    let json: any = null;
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
    return { status: res.status, json, text };
  }

  async health(): Promise<number> {
    const res = await fetch(this.baseUrl() + '/api/v1/health');
    await res.arrayBuffer();
    return res.status;
  }

  /** `POST /api/client/pair`: a device of `login` for `vaultId`. */
  async pair(login: string, password: string, vaultId: string, deviceName = 'e2e-helper'): Promise<PairedDevice> {
    const r = await this.post('/api/client/pair', {
      login,
      password,
      device_name: deviceName,
      client_version: 'verstak-sync-e2e/0',
      vault_id: vaultId,
    });
    if (r.status !== 200) throw new Error(`pair failed: HTTP ${r.status} ${r.text}`);
    return { token: String(r.json.device_token), deviceId: String(r.json.device_id) };
  }

  /** `POST /api/client/revoke-device` from another device of the same user. */
  async revokeDevice(token: string, deviceId: string, password: string): Promise<void> {
    const r = await this.post('/api/client/revoke-device', { device_id: deviceId, password }, token);
    if (r.status !== 200) throw new Error(`revoke-device failed: HTTP ${r.status} ${r.text}`);
  }
}
