import { Injectable } from '@nestjs/common';
import { isUuid } from '../common/prisma-errors.js';
import { PrismaService, type Tx } from '../db/prisma.service.js';
import type { Prisma } from '../generated/prisma/client.js';

@Injectable()
export class ConnectionsRepository {
  constructor(private readonly prisma: PrismaService) {}

  list() {
    return this.prisma.connection.findMany({ orderBy: { name: 'asc' } });
  }

  /** By id or by name; a UUID-shaped value may be either. */
  findByIdOrName(idOrName: string, tx: Tx | PrismaService = this.prisma) {
    return tx.connection.findFirst({
      where: isUuid(idOrName) ? { OR: [{ id: idOrName }, { name: idOrName }] } : { name: idOrName },
    });
  }

  create(tx: Tx, data: Prisma.ConnectionCreateInput) {
    return tx.connection.create({ data });
  }

  update(tx: Tx, id: string, data: Prisma.ConnectionUpdateInput) {
    return tx.connection.update({ where: { id }, data });
  }

  delete(tx: Tx, id: string) {
    return tx.connection.delete({ where: { id } });
  }
}

export type ConnectionRow = NonNullable<Awaited<ReturnType<ConnectionsRepository['findByIdOrName']>>>;
