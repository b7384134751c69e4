import type { MotoServer } from '../../local/moto.ts';

export default async function globalTeardown(): Promise<void> {
  const moto = (globalThis as { __MOTO__?: MotoServer }).__MOTO__;
  await moto?.stop();
}
